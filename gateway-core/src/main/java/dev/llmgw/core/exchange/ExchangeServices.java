package dev.llmgw.core.exchange;

import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.upstream.BackendPools;

/** The process-wide services every exchange uses. */
public record ExchangeServices(BackendPools pools, BackendGuards guards, ExchangeEvents events) {}
