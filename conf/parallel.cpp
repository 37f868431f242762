#include "conf/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace svcproxy::conf {
namespace {

// Indices are handed out in blocks: one atomic add per block, and neighbouring documents
// (and their allocations) stay on one thread.
constexpr std::size_t kBlock = 32;
constexpr unsigned kMaxThreads = 8;

unsigned thread_count(std::size_t count, std::size_t min_parallel) {
  if (count < min_parallel || count < 2 * kBlock) return 1;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t blocks = (count + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min<std::size_t>({cores, kMaxThreads, blocks}));
}

}  // namespace

void for_each_index(std::size_t count, std::size_t min_parallel,
                    const std::function<void(std::size_t)>& work) {
  const unsigned threads = thread_count(count, min_parallel);
  if (threads == 1) {
    for (std::size_t i = 0; i < count; ++i)
      work(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  const auto run = [&] {
    try {
      for (std::size_t begin; !failed && (begin = next.fetch_add(kBlock)) < count;)
        for (std::size_t i = begin, end = std::min(begin + kBlock, count); i < end; ++i)
          work(i);
    } catch (...) {
      const std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(run);
    } catch (const std::system_error&) {
      break;  // no thread to be had: the ones started (and this one) do the rest
    }
  }
  run();
  for (auto& helper : helpers)
    helper.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace svcproxy::conf
