#include "server/net/eager_write.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
constexpr std::size_t kMaxPieces = 8;
}  // namespace

WriteProgress send_now(tcp::socket& socket, std::span<const asio::const_buffer> pieces) {
  WriteProgress progress;
  const int fd = socket.native_handle();
  for (;;) {
    ssize_t sent;
    if (pieces.size() == 1) {
      sent = ::send(fd, pieces[0].data(), pieces[0].size(), kSendFlags);
    } else {
      std::array<iovec, kMaxPieces> vectors;
      const std::size_t count = std::min(pieces.size(), kMaxPieces);
      for (std::size_t i = 0; i < count; ++i)
        vectors[i] = {const_cast<void*>(pieces[i].data()), pieces[i].size()};
      msghdr message{};
      message.msg_iov = vectors.data();
      message.msg_iovlen = count;
      sent = ::sendmsg(fd, &message, kSendFlags);
    }
    if (sent >= 0) {
      progress.written = static_cast<std::size_t>(sent);
      return progress;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      progress.error = {errno, asio::error::get_system_category()};
    return progress;
  }
}

}  // namespace svcproxy::server
