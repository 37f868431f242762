#include "server/http/exchange_policy.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>

namespace svcproxy::server {
namespace http = boost::beast::http;
using Kind = BodyFraming::Kind;

RequestPlan plan_request(const RequestFacts& request) {
  RequestPlan plan;
  plan.framing = request.framing;
  plan.client_http10 = request.version == 10;
  plan.client_keep_alive = request.keep_alive;
  plan.head_request = request.method == http::verb::head;
  plan.upgrade = request.upgrade;
  plan.idempotent = is_idempotent(request.method);
  plan.expect_continue = request.framing.has_body() && !plan.client_http10 &&
                         boost::beast::iequals(request.expect, "100-continue");
  if (request.framing.kind == Kind::Length)
    plan.buffered_body = static_cast<std::size_t>(
        std::min<std::uint64_t>(request.framing.length, request.buffered_bytes));
  plan.replayable = !request.framing.has_body() || (request.framing.kind == Kind::Length &&
                                                    plan.buffered_body == request.framing.length);
  return plan;
}

ResponsePlan plan_response(const RequestPlan& request, const ResponseFacts& response,
                           bool draining) {
  ResponsePlan plan;
  plan.switching = response.status == 101;
  if (plan.switching && !request.upgrade) {
    plan.accepted = false;
    return plan;
  }
  if (plan.switching) return plan;  // no framing: a tunnel; neither connection is reused
  plan.from_pod = response.framing;
  plan.to_client = plan.from_pod;
  if (plan.from_pod.kind == Kind::Chunked && request.client_http10)
    plan.to_client = {Kind::UntilClose, 0};
  plan.upstream_reusable = response.keep_alive && plan.from_pod.kind != Kind::UntilClose;
  plan.keep_client =
      request.client_keep_alive && !draining && plan.to_client.kind != Kind::UntilClose;
  return plan;
}

}  // namespace svcproxy::server
