// Writes that happen on the caller's turn.
//
// Why: Asio's async_write sends at once as well, but it resumes the coroutine through the
// scheduler's queue, behind everything else that became ready meanwhile. That is a turn of
// the event loop per write, two per proxied request; and after a last response (Connection:
// close) the client has often read it and closed before the worker gets round to closing.
// The side that closes second pays for the socket's teardown, so the worker paid it for
// every such request. Sending inline lets the caller close right behind its last byte, as
// HAProxy does.
//
// How: send_now() makes one non-blocking send(2)/sendmsg(2) and reports how much the socket
// took; only when its buffer is full does write_rest() wait through Asio for the remainder.
// Thread affinity: the socket's own io_context thread.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <span>
#include <tuple>

namespace svcproxy::server {

// How far a write got: `written` bytes, and the error that stopped it (none when it is
// merely waiting for room).
struct WriteProgress {
  boost::system::error_code error;
  std::size_t written = 0;
};

// Sends as much of `pieces` as the socket's buffer takes now, never waiting.
WriteProgress send_now(boost::asio::ip::tcp::socket& socket,
                       std::span<const boost::asio::const_buffer> pieces);

// Writes what send_now() left of `pieces` (all but the first `progress.written` bytes),
// waiting for room as needed; returns the progress over the whole of `pieces`. Any Asio
// write stream (byte_stream.hpp).
template <class Stream>
boost::asio::awaitable<WriteProgress> write_rest(Stream& stream,
                                                 std::span<const boost::asio::const_buffer> pieces,
                                                 WriteProgress progress) {
  boost::beast::buffers_suffix<std::span<const boost::asio::const_buffer>> rest(pieces);
  rest.consume(progress.written);
  auto [error, written] = co_await boost::asio::async_write(
      stream, rest, boost::asio::as_tuple(boost::asio::use_awaitable));
  progress.error = error;
  progress.written += written;
  co_return progress;
}

inline bool finished(const WriteProgress& progress,
                     std::span<const boost::asio::const_buffer> pieces) {
  return progress.error || progress.written == boost::asio::buffer_size(pieces);
}

}  // namespace svcproxy::server
