// Unit tests of the Redis URL parser (core/src/cluster/redis_url.cpp).
#include <gtest/gtest.h>

#include <string>

#include "wse/cluster/redis_url.hpp"
#include "wse/util/errors.hpp"

using wse::InvalidArgument;
using namespace wse::cluster;

namespace {

std::string error_of(const std::string& url) {
  try {
    (void)parse_redis_url(url);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RedisUrl, Defaults) {
  const RedisUrl u = parse_redis_url("redis://localhost");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0u);
  EXPECT_FALSE(u.has_password);
  EXPECT_TRUE(u.username.empty());
  EXPECT_EQ(u.tls_verify, TlsVerify::Required);
  EXPECT_DOUBLE_EQ(u.connect_timeout_s, 5.0);
}

TEST(RedisUrl, FullForm) {
  const RedisUrl u = parse_redis_url("rediss://app:s%40cr%2Ft@cache.example:6380/3?ssl_cert_reqs=none");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.username, "app");
  EXPECT_EQ(u.password, "s@cr/t");
  EXPECT_TRUE(u.has_password);
  EXPECT_EQ(u.host, "cache.example");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 3u);
  EXPECT_EQ(u.tls_verify, TlsVerify::None);
  EXPECT_EQ(u.redacted(), "rediss://app:***@cache.example:6380/3");
}

TEST(RedisUrl, PasswordOnlyForms) {
  EXPECT_EQ(parse_redis_url("redis://:pw@h").password, "pw");
  EXPECT_TRUE(parse_redis_url("redis://:pw@h").username.empty());
  EXPECT_EQ(parse_redis_url("redis://secret@h").password, "secret");  // as redis-py reads it
  EXPECT_EQ(parse_redis_url("redis://u:p/w@h:1/2").password, "p/w");  // '/' before the last '@'
  EXPECT_EQ(parse_redis_url("redis://:pw@h").redacted(), "redis://:***@h:6379");
}

TEST(RedisUrl, Ipv6AndQueryDb) {
  const RedisUrl u = parse_redis_url("redis://[::1]:7000?db=2&connect_timeout=0.5");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 2u);
  EXPECT_DOUBLE_EQ(u.connect_timeout_s, 0.5);
  EXPECT_EQ(u.endpoint(), "[::1]:7000");
  EXPECT_EQ(parse_redis_url("redis://h/4?db=4").db, 4u);
}

TEST(RedisUrl, TlsFiles) {
  const RedisUrl u = parse_redis_url(
      "rediss://h?ssl_ca_certs=/tmp/ca.pem&ssl_certfile=/tmp/c.pem&ssl_keyfile=/tmp/"
      "k.pem&ssl_check_hostname=false");
  EXPECT_EQ(u.tls_ca_file, "/tmp/ca.pem");
  EXPECT_EQ(u.tls_cert_file, "/tmp/c.pem");
  EXPECT_EQ(u.tls_key_file, "/tmp/k.pem");
  EXPECT_FALSE(u.tls_check_hostname);
}

TEST(RedisUrl, RejectsWithAUsefulMessage) {
  EXPECT_NE(error_of("http://h").find("unsupported scheme 'http'"), std::string::npos);
  EXPECT_NE(error_of("localhost:6379").find("missing scheme"), std::string::npos);
  EXPECT_NE(error_of("redis://").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("redis://:pw@").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://h:65536").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://h:").find("empty port"), std::string::npos);
  EXPECT_NE(error_of("redis://h:12ab").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://h/x").find("db"), std::string::npos);
  EXPECT_NE(error_of("redis://h/1?db=2").find("differ"), std::string::npos);
  EXPECT_NE(error_of("redis://h?dbb=1").find("unknown query option 'dbb'"), std::string::npos);
  EXPECT_NE(error_of("redis://h?db").find("no value"), std::string::npos);
  EXPECT_NE(error_of("redis://h?ssl_cert_reqs=none").find("rediss://"), std::string::npos);
  EXPECT_NE(error_of("rediss://h?ssl_cert_reqs=maybe").find("ssl_cert_reqs"), std::string::npos);
  EXPECT_NE(error_of("rediss://h?ssl_certfile=/c").find("go together"), std::string::npos);
  EXPECT_NE(error_of("redis://u:%zz@h").find("%-escape"), std::string::npos);
  EXPECT_NE(error_of("redis://u:%4@h").find("%-escape"), std::string::npos);
  EXPECT_NE(error_of("redis://h h").find("spaces"), std::string::npos);
  EXPECT_NE(error_of("redis://[::1").find("IPv6"), std::string::npos);
  EXPECT_NE(error_of("redis://h#frag").find("fragment"), std::string::npos);
  EXPECT_NE(error_of("redis://u:@h").find("needs a password"), std::string::npos);
  EXPECT_NE(error_of("redis://h?connect_timeout=0").find("connect_timeout"), std::string::npos);
}

TEST(RedisUrl, NeverEchoesThePassword) {
  const std::string e = error_of("redis://u:hunter2@h:99999");
  EXPECT_FALSE(e.empty());
  EXPECT_EQ(e.find("hunter2"), std::string::npos);
}
