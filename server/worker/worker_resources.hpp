// What a worker's sessions share: the upstream keep-alive pool, buffers and pipes, the
// access-log batch. Worker-local: touched only on the worker's thread.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "server/net/splice_pipe.hpp"
#include "server/upstream/upstream_pool.hpp"
#include "server/worker/buffer_pool.hpp"

namespace svcproxy::server {

// Read buffers lent to a connection for one request or exchange: an idle keep-alive
// connection then holds none (a response head buffer is 16 KiB), and taking one back costs
// no allocation in the steady state.
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

// Strings for serialised heads, lent for one exchange like the buffers above: an idle
// keep-alive connection holds none.
class StringPool {
 public:
  std::string take(std::size_t reserve) {
    if (free_.empty()) {
      std::string fresh;
      fresh.reserve(reserve);
      return fresh;
    }
    std::string kept = std::move(free_.back());
    free_.pop_back();
    return kept;
  }
  void give_back(std::string&& text) {
    text.clear();
    if (text.capacity() > 0 && text.capacity() <= kMaxKeptCapacity && free_.size() < kMaxFree)
      free_.push_back(std::move(text));
    else
      std::string().swap(text);
  }

 private:
  static constexpr std::size_t kMaxFree = 64;
  static constexpr std::size_t kMaxKeptCapacity = 16 * 1024;
  std::vector<std::string> free_;
};

struct WorkerResources {
  UpstreamPool upstream_pool;
  FlatBufferPool upstream_buffers;
  FlatBufferPool client_buffers;  // an HTTP connection's read buffer while a request is read
  StringPool heads;
  // Access-log lines of the current event-loop round, written by one posted flush: one
  // write(2) for many requests under load, the next loop turn when idle.
  std::string access_log_batch;
  bool access_log_flush_posted = false;
  BodyBufferPool body_buffers;
  RelayBufferPool relay_buffers;
  FieldBlockPool field_blocks;
  PipePool pipes;
};

}  // namespace svcproxy::server
