// Worker-local buffer pools (touched only on the worker's thread).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace svcproxy::server {

// Fixed-size buffers lent while bytes are in flight, recycled so that moving data costs no
// allocation in the steady state, and an idle connection holds none.
template <std::size_t Size>
class BufferPool {
 public:
  static constexpr std::size_t kSize = Size;

  class Lease {
   public:
    Lease() = default;
    Lease(BufferPool* pool, std::unique_ptr<char[]> data) : pool_(pool), data_(std::move(data)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&& other) {
      give_back();
      pool_ = other.pool_;
      data_ = std::move(other.data_);
      return *this;
    }
    ~Lease() { give_back(); }
    char* data() const { return data_.get(); }
    explicit operator bool() const { return static_cast<bool>(data_); }

   private:
    void give_back() {
      if (data_) pool_->give_back(std::move(data_));
    }
    BufferPool* pool_ = nullptr;
    std::unique_ptr<char[]> data_;
  };

  Lease lease() {
    ++lent_;
    if (free_.empty()) return Lease(this, std::make_unique_for_overwrite<char[]>(kSize));
    Lease lease(this, std::move(free_.back()));
    free_.pop_back();
    return lease;
  }

  // Buffers out on lease right now.
  std::size_t lent() const { return lent_; }

 private:
  static constexpr std::size_t kMaxFree = 64;
  void give_back(std::unique_ptr<char[]> data) {
    --lent_;
    if (free_.size() < kMaxFree) free_.push_back(std::move(data));
  }
  std::vector<std::unique_ptr<char[]>> free_;
  std::size_t lent_ = 0;
};

// Request and response bodies streamed by HTTP sessions.
using BodyBufferPool = BufferPool<32 * 1024>;
// Bytes relayed by L4 connections and upgrade tunnels: larger, for bulk transfers.
using RelayBufferPool = BufferPool<64 * 1024>;
// Header fields of one exchange (field_arena.hpp).
using FieldBlockPool = BufferPool<4096>;

}  // namespace svcproxy::server
