// What the L7 client connection needs of its stream, so one code path serves a plain TCP
// socket and a TLS stream (BasicTlsSocket, to clients and to pods): Asio's async read
// and write of bytes, an executor, and the TCP socket underneath (reached through
// next_layer() as Asio's layered streams do) for closing, cancelling, shutdown, waiting
// and addresses. The socket-only speed-ups (the draining read's effect, eager writes on
// the caller's turn, splice(2), the bufferless idle wait) apply where the stream is the
// socket itself; any other stream gets plain Asio operations through the same calls.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <concepts>
#include <span>

#include "server/net/eager_write.hpp"
#include "server/net/native_socket.hpp"

namespace svcproxy::server {

inline boost::asio::ip::tcp::socket& lowest_socket(boost::asio::ip::tcp::socket& socket) {
  return socket;
}
template <class Layered>
requires requires(Layered& s) {
  s.next_layer();
}
auto& lowest_socket(Layered& stream) {
  return lowest_socket(stream.next_layer());
}

template <class Stream>
concept ByteStream = boost::beast::is_async_stream<Stream>::value && requires(Stream& s) {
  { lowest_socket(s) } -> std::same_as<boost::asio::ip::tcp::socket&>;
};

// The stream is a plain TCP socket: the socket-level speed-ups apply.
template <class Stream>
inline constexpr bool is_plain_socket = std::same_as<Stream, boost::asio::ip::tcp::socket>;

// Another stream may hold bytes of its own (a TLS record already decrypted): a read may
// always find some, so the caller reads rather than waits — unless the stream says
// better (TlsSocket's own may_be_readable, found by argument-dependent lookup).
template <ByteStream Stream>
requires(!is_plain_socket<Stream>) bool may_be_readable(Stream&) {
  return true;
}

// Only a socket can send on the caller's turn; another stream sends everything through
// write_rest().
template <ByteStream Stream>
requires(!is_plain_socket<Stream>) WriteProgress
    send_now(Stream&, std::span<const boost::asio::const_buffer>) {
  return {};
}

}  // namespace svcproxy::server
