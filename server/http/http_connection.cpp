#include "server/http/http_connection.hpp"

namespace svcproxy::server {

// The plain-TCP connection, compiled once here.
template class BasicHttpConnection<boost::asio::ip::tcp::socket>;

}  // namespace svcproxy::server
