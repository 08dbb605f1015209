package dev.llmgw.core.access;

import dev.llmgw.core.config.Access;

/**
 * Who a request comes from: a gateway key (by name; the key itself is never kept), anonymous on an
 * open gateway, or the admin.
 *
 * @param key   the gateway key's config, or null (anonymous or admin)
 * @param admin whether the request carried the admin token
 */
public record Identity(Access.ApiKey key, boolean admin) {
  public static final Identity ANONYMOUS = new Identity(null, false);
  public static final Identity ADMIN = new Identity(null, true);

  public String keyName() {
    return key == null ? null : key.name();
  }

  public String team() {
    return key == null ? null : key.team();
  }
}
