// What the forwarder decides from the heads alone, before and after a pod answers: pure
// functions of a few facts, so each rule is unit-tested rather than only seen end to end.
// http_forward does the I/O these plans describe.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/http_message/http_rewrite.hpp"

namespace svcproxy::server {

struct RequestFacts {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  unsigned version = 11;  // 10 or 11
  bool keep_alive = true;
  bool upgrade = false;            // wants_upgrade(): a WebSocket-style switch
  std::string_view expect = {};    // the Expect field, if any
  BodyFraming framing = {};        // of the request body, as the client sent it
  std::size_t buffered_bytes = 0;  // bytes after the head already read from the client
};

struct RequestPlan {
  BodyFraming framing;
  bool client_http10 = false;
  bool client_keep_alive = true;
  bool head_request = false;  // the response has no body whatever it says
  bool upgrade = false;
  bool idempotent = false;
  // This hop answers `100 Continue` itself once the pod is connected (HTTP/1.1 with a body).
  bool expect_continue = false;
  // Body bytes that go to the pod with the head, in one write: a Content-Length body's
  // part already buffered.
  std::size_t buffered_body = 0;
  // The whole body (or none) is in hand, so an attempt can send it again; otherwise the
  // body streams once and the request can never be retried after its first byte.
  bool replayable = true;
};

RequestPlan plan_request(const RequestFacts& request);

struct ResponseFacts {
  int status = 200;
  bool keep_alive = true;    // the pod's response allows another request on its connection
  BodyFraming framing = {};  // of the response body, as the pod sent it
};

struct ResponsePlan {
  bool accepted = true;    // false: a 101 the client did not ask for (502)
  bool switching = false;  // a 101 to an upgrade request: the connection becomes a tunnel
  BodyFraming from_pod;
  BodyFraming to_client;           // chunked to an HTTP/1.0 client is sent until close instead
  bool keep_client = false;        // the client connection may carry another request
  bool upstream_reusable = false;  // the pod's connection goes back to the pool after it
};

// `draining`: the worker is shutting down, so the client connection closes after this.
ResponsePlan plan_response(const RequestPlan& request, const ResponseFacts& response,
                           bool draining);

}  // namespace svcproxy::server
