#include "server/http/http_forward_impl.hpp"

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace svcproxy::server {

template boost::asio::awaitable<ForwardResult> forward_request(
    HttpConnection& connection, RequestParser& request, const lb::Backend& backend,
    const conf::ProxySettings& settings, ServiceStats* stats,
    const std::shared_ptr<const UpstreamTls>& tls);

}  // namespace svcproxy::server
