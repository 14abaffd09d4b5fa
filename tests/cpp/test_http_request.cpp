#include <gtest/gtest.h>

#include "wse/protocol/http_request.hpp"

namespace {

using namespace wse::protocol;

const char* kGood =
    "GET /wse?token=abc%2Bdef&format=msgpack HTTP/1.1\r\n"
    "Host: example\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Cookie: a=1; access_token=tok123\r\nAuthorization: Bearer xyz\r\nOrigin: http://o\r\n\r\n";

TEST(HttpRequest, ParsesUpgrade) {
  const std::string head(kGood);
  ASSERT_EQ(find_head_end(head), head.size());
  auto parsed = parse_request_head(head);
  ASSERT_TRUE(parsed.request.has_value()) << parsed.error;
  const HttpRequest& r = *parsed.request;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/wse");
  EXPECT_TRUE(r.upgrade_requested);
  EXPECT_EQ(check_upgrade(r, nullptr), 0);
  EXPECT_EQ(query_param(r.query, "token"), "abc+def");
  EXPECT_TRUE(query_flag(r.query, "format", "MsgPack"));
  EXPECT_EQ(cookie_value(r.cookie, "access_token"), "tok123");
  EXPECT_EQ(bearer_token(r.authorization), "xyz");
  EXPECT_EQ(r.origin, "http://o");
}

TEST(HttpRequest, AcceptKeyMatchesRfcExample) {
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HttpRequest, Rejections) {
  std::string why;
  auto version = parse_request_head(
      "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
      "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  ASSERT_TRUE(version.request);
  EXPECT_EQ(check_upgrade(*version.request, &why), 426);
  auto badkey = parse_request_head(
      "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_TRUE(badkey.request);
  EXPECT_EQ(check_upgrade(*badkey.request, &why), 400);
  auto post = parse_request_head("POST / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  ASSERT_TRUE(post.request);
  EXPECT_EQ(check_upgrade(*post.request, &why), 405);
  auto garbage = parse_request_head("\x01\x02 not http\r\n\r\n");
  EXPECT_FALSE(garbage.request);
  EXPECT_EQ(garbage.error_status, 400);
}

TEST(HttpRequest, CookieAndBearerEdges) {
  EXPECT_EQ(cookie_value("access_token=undefined; access_token=null; access_token=real", "access_token"),
            "real");
  EXPECT_FALSE(cookie_value("x_access_token=1", "access_token"));
  EXPECT_EQ(cookie_value("access_token=\"quoted\"", "access_token"), "quoted");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER   abc  "), "abc");
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(query_param("a=1&b=2", "c"));
  EXPECT_EQ(query_param("a=1&b=%zz", "b"), "%zz");
  EXPECT_EQ(query_param("flag&b=2", "flag"), "");
}

TEST(HttpRequest, ResponseFormat) {
  const std::string r = http_response(503, "text/plain", "busy", "Retry-After: 1\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  EXPECT_NE(r.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_NE(r.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 8), "\r\n\r\nbusy");
}

}  // namespace
