#include "server/net/splice_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace svcproxy::server {

namespace {

// Larger than the default 64 KiB: fewer splice(2) calls per MiB. Capped by
// /proc/sys/fs/pipe-max-size (1 MiB by default); a refusal keeps the default.
constexpr int kPipeBytes = 1024 * 1024;

}  // namespace

SplicePipe::~SplicePipe() {
  ::close(read_fd_);
  ::close(write_fd_);
}

std::unique_ptr<SplicePipe> PipePool::take() {
  if (!free_.empty()) {
    auto pipe = std::move(free_.back());
    free_.pop_back();
    return pipe;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return nullptr;
  const int size = ::fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);
  const int capacity = size > 0 ? size : ::fcntl(fds[1], F_GETPIPE_SZ);
  return std::make_unique<SplicePipe>(fds[0], fds[1],
                                      static_cast<std::size_t>(capacity > 0 ? capacity : 65536));
}

void PipePool::give_back(std::unique_ptr<SplicePipe> pipe) {
  if (pipe && free_.size() < kMaxFree) free_.push_back(std::move(pipe));
}

namespace detail {

ssize_t splice_some(int from, int to, std::size_t size, bool more) {
  const unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (more ? SPLICE_F_MORE : 0u);
  for (;;) {
    const ssize_t n = ::splice(from, nullptr, to, nullptr, size, flags);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

}  // namespace detail

}  // namespace svcproxy::server
