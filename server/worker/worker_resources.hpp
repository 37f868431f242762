// What a worker's HTTP sessions share: the upstream keep-alive pool, body buffers and the
// list of live sessions (so a drain can close the idle ones and one timer can check every
// deadline). Worker-local: touched only on the worker's thread.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "server/worker/buffer_pool.hpp"
#include "server/net/splice_pipe.hpp"
#include "server/upstream/upstream_pool.hpp"

namespace svcproxy::server {

// A session the worker looks after: asked to close when it is between requests (drain),
// and to act on its deadline once that has passed (the worker's deadline watch).
class WatchedSession : public boost::intrusive::list_base_hook<
                           boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  virtual void close_if_idle() = 0;
  virtual void check_deadline(std::chrono::steady_clock::time_point now) = 0;

 protected:
  ~WatchedSession() = default;
};

// Read buffers for response heads, lent to a connection for one exchange: an idle
// keep-alive connection then holds no upstream buffer (16 KiB each otherwise), and taking
// one back costs no allocation in the steady state.
class FlatBufferPool {
 public:
  boost::beast::flat_buffer take() {
    if (free_.empty()) return {};
    boost::beast::flat_buffer buffer = std::move(free_.back());
    free_.pop_back();
    return buffer;
  }
  void give_back(boost::beast::flat_buffer&& buffer) {
    buffer.clear();
    if (buffer.capacity() > 0 && buffer.capacity() <= kMaxKeptCapacity && free_.size() < kMaxFree)
      free_.push_back(std::move(buffer));
    else
      buffer.shrink_to_fit();
  }

 private:
  static constexpr std::size_t kMaxFree = 64;
  static constexpr std::size_t kMaxKeptCapacity = 64 * 1024;
  std::vector<boost::beast::flat_buffer> free_;
};

struct WorkerResources {
  UpstreamPool upstream_pool;
  FlatBufferPool upstream_buffers;
  // Access-log lines of the current event-loop round, written by one posted flush: one
  // write(2) for many requests under load, the next loop turn when idle.
  std::string access_log_batch;
  bool access_log_flush_posted = false;
  BodyBufferPool body_buffers;
  RelayBufferPool relay_buffers;
  FieldBlockPool field_blocks;
  PipePool pipes;
  boost::intrusive::list<WatchedSession, boost::intrusive::constant_time_size<false>> http_sessions;

  void close_idle_sessions() {
    for (auto& session : http_sessions)
      session.close_if_idle();
  }
};

}  // namespace svcproxy::server
