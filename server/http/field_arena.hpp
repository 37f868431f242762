// Where Beast keeps the header fields of a connection's current exchange.
//
// Why: basic_fields allocates every field (and the request target, and the reason phrase)
// on its own; a small keep-alive request through the proxy cost 8 mallocs, about 80% of
// them for fields (perf probe on malloc with call graphs), and the frees go through
// glibc's slower paths (unlink_chunk, malloc_consolidate).
//
// How: a FieldArena bumps a pointer through a block borrowed from the worker when the first
// field arrives; frees are counted, and when the last one comes back (both parsers of the
// exchange are gone) the block returns to the worker. A keep-alive connection between
// requests holds no block. What does not fit goes to operator new as before.
// Thread affinity: the worker's thread, like the pool it borrows from.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <cstdint>
#include <new>

#include "server/worker/buffer_pool.hpp"

namespace svcproxy::server {

class FieldArena {
 public:
  explicit FieldArena(FieldBlockPool& blocks) : blocks_(blocks) {}
  FieldArena(const FieldArena&) = delete;
  FieldArena& operator=(const FieldArena&) = delete;

  void* allocate(std::size_t bytes, std::size_t alignment) {
    const std::size_t start = (used_ + alignment - 1) & ~(alignment - 1);
    if (start + bytes > FieldBlockPool::kSize) return ::operator new(bytes);
    if (!block_) block_ = blocks_.lease();
    used_ = start + bytes;
    ++live_;
    return block_.data() + start;
  }

  void deallocate(void* pointer) {
    const auto* byte = static_cast<const char*>(pointer);
    if (!block_ || byte < block_.data() || byte >= block_.data() + FieldBlockPool::kSize) {
      ::operator delete(pointer);
      return;
    }
    if (--live_ > 0) return;
    used_ = 0;
    block_ = {};  // the exchange is over: the block goes back to the worker
  }

 private:
  FieldBlockPool& blocks_;
  FieldBlockPool::Lease block_;
  std::size_t used_ = 0;
  std::size_t live_ = 0;
};

// A default-constructed allocator (no arena) is operator new, for fields made elsewhere.
template <class T>
class ArenaAllocator {
 public:
  using value_type = T;

  ArenaAllocator() = default;
  explicit ArenaAllocator(FieldArena* arena) : arena_(arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) : arena_(other.arena()) {}

  T* allocate(std::size_t n) {
    if (!arena_) return static_cast<T*>(::operator new(n * sizeof(T)));
    return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* pointer, std::size_t) {
    if (!arena_) return ::operator delete(pointer);
    arena_->deallocate(pointer);
  }

  FieldArena* arena() const { return arena_; }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const {
    return arena_ == other.arena();
  }

 private:
  FieldArena* arena_ = nullptr;
};

using FieldAllocator = ArenaAllocator<char>;
using Fields = boost::beast::http::basic_fields<FieldAllocator>;
using RequestHead = boost::beast::http::request_header<Fields>;
using ResponseHead = boost::beast::http::response_header<Fields>;

}  // namespace svcproxy::server
