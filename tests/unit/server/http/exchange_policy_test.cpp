// What the forwarder decides from the heads: replayable bodies, 100-continue, framing to
// the client, which connections stay open.
#include "server/http/exchange_policy.hpp"

#include <doctest/doctest.h>

using namespace svcproxy::server;
using Kind = BodyFraming::Kind;
using boost::beast::http::verb;

TEST_CASE("a body is replayable only when it is whole in the buffer") {
  RequestFacts post{.method = verb::post, .framing = {Kind::Length, 100}, .buffered_bytes = 100};
  RequestPlan plan = plan_request(post);
  CHECK(plan.replayable);
  CHECK(plan.buffered_body == 100);
  CHECK_FALSE(plan.idempotent);

  post.buffered_bytes = 99;
  plan = plan_request(post);
  CHECK_FALSE(plan.replayable);
  CHECK(plan.buffered_body == 99);

  post.buffered_bytes = 250;  // a pipelined request follows: only the body goes with the head
  CHECK(plan_request(post).buffered_body == 100);

  RequestFacts chunked{.method = verb::put, .framing = {Kind::Chunked, 0}, .buffered_bytes = 4096};
  plan = plan_request(chunked);
  CHECK_FALSE(plan.replayable);  // streamed through the decoder, never sent twice
  CHECK(plan.buffered_body == 0);
  CHECK(plan.idempotent);

  RequestFacts get{.method = verb::get, .buffered_bytes = 40};  // a pipelined request
  plan = plan_request(get);
  CHECK(plan.replayable);
  CHECK(plan.buffered_body == 0);
  CHECK(plan.idempotent);
}

TEST_CASE("100-continue is answered by this hop only for an HTTP/1.1 request with a body") {
  RequestFacts r{.method = verb::post, .expect = "100-Continue", .framing = {Kind::Length, 10}};
  CHECK(plan_request(r).expect_continue);
  r.version = 10;
  CHECK_FALSE(plan_request(r).expect_continue);
  r.version = 11;
  r.framing = {Kind::Length, 0};
  CHECK_FALSE(plan_request(r).expect_continue);
  r.framing = {Kind::Chunked, 0};
  r.expect = "something-else";
  CHECK_FALSE(plan_request(r).expect_continue);
}

TEST_CASE("a 101 is accepted only when the client asked for an upgrade") {
  RequestPlan plain = plan_request({});
  const ResponsePlan unsolicited = plan_response(plain, {.status = 101}, false);
  CHECK_FALSE(unsolicited.accepted);
  RequestPlan websocket = plan_request({.upgrade = true});
  const ResponsePlan tunnel = plan_response(websocket, {.status = 101}, false);
  CHECK(tunnel.accepted);
  CHECK(tunnel.switching);
  CHECK_FALSE(tunnel.keep_client);
  CHECK_FALSE(tunnel.upstream_reusable);
}

TEST_CASE("a chunked response to an HTTP/1.0 client is sent until close") {
  const RequestPlan http10 = plan_request({.version = 10, .keep_alive = true});
  const ResponsePlan plan = plan_response(http10, {.framing = {Kind::Chunked, 0}}, false);
  CHECK(plan.from_pod.kind == Kind::Chunked);
  CHECK(plan.to_client.kind == Kind::UntilClose);
  CHECK_FALSE(plan.keep_client);
  CHECK(plan.upstream_reusable);  // the pod framed it: its connection is fine
}

TEST_CASE("which connections stay open after the response") {
  const RequestPlan keep = plan_request({});
  CHECK(plan_response(keep, {.framing = {Kind::Length, 5}}, false).keep_client);
  CHECK(plan_response(keep, {.framing = {Kind::Length, 5}}, false).upstream_reusable);
  // Draining: the client hears Connection: close; the pod's connection is still reusable.
  CHECK_FALSE(plan_response(keep, {.framing = {Kind::Length, 5}}, true).keep_client);
  // A response delimited by the pod's close: neither connection can carry another.
  const ResponsePlan until_close = plan_response(keep, {.framing = {Kind::UntilClose, 0}}, false);
  CHECK_FALSE(until_close.keep_client);
  CHECK_FALSE(until_close.upstream_reusable);
  // The pod said Connection: close.
  CHECK_FALSE(plan_response(keep, {.keep_alive = false, .framing = {Kind::Length, 5}}, false)
                  .upstream_reusable);
  // The client said Connection: close.
  const RequestPlan close = plan_request({.keep_alive = false});
  CHECK_FALSE(plan_response(close, {.framing = {Kind::Length, 5}}, false).keep_client);
}
