// How long Backend::pick takes per policy and endpoint count, on the path every new
// connection or request takes. Run: build with -DSVCPROXY_BENCH=ON, then
// ./build/bench/lb_pick_benchmark
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "lb/backend.hpp"

// Counts heap allocations, so the benchmark shows picking allocates nothing. GCC 12 flags
// free() of what the (replaced) operator new returned, not seeing that it is malloc's.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
std::atomic<long> allocations{0};
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}

namespace svcproxy::lb {
namespace {

void report_allocations(benchmark::State& state, long before) {
  state.counters["allocs/pick"] = benchmark::Counter(
      static_cast<double>(allocations.load() - before) / static_cast<double>(state.iterations()));
}

std::vector<EndpointPtr> make_endpoints(int count) {
  std::vector<EndpointPtr> endpoints;
  for (int i = 0; i < count; ++i)
    endpoints.push_back(std::make_shared<Endpoint>(
        EndpointAddress{"default", "web-" + std::to_string(i),
                        "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250), 8080, "",
                        std::nullopt}));
  return endpoints;
}

std::shared_ptr<Backend> make_backend(int count, conf::LoadBalancing policy,
                                      bool affinity = false) {
  BackendSettings settings;
  settings.load_balancing = policy;
  if (affinity) settings.session_affinity = conf::SessionAffinity::ClientIP;
  return std::make_shared<Backend>(settings, make_endpoints(count));
}

// Shared across benchmark threads, so ->Threads(2) measures contention on one Backend.
std::shared_ptr<Backend> shared_backend;

void pick_loop(benchmark::State& state, const Backend& backend) {
  const PickRequest request{"10.0.0.1", Clock::now(), {}};
  const long before = allocations.load();
  for (auto _ : state)
    benchmark::DoNotOptimize(backend.pick(request));
  if (state.thread_index() == 0) report_allocations(state, before);
}

void BM_RoundRobin(benchmark::State& state) {
  if (state.thread_index() == 0)
    shared_backend =
        make_backend(static_cast<int>(state.range(0)), conf::LoadBalancing::RoundRobin);
  pick_loop(state, *shared_backend);
}
BENCHMARK(BM_RoundRobin)->Arg(3)->Arg(100)->Arg(10'000);
BENCHMARK(BM_RoundRobin)->Arg(3)->Threads(2);

// Every endpoint idle: the scan stops at the first one.
void BM_LeastConnectionsIdle(benchmark::State& state) {
  auto backend =
      make_backend(static_cast<int>(state.range(0)), conf::LoadBalancing::LeastConnections);
  pick_loop(state, *backend);
}
BENCHMARK(BM_LeastConnectionsIdle)->Arg(3)->Arg(100)->Arg(10'000);

// Every endpoint busy: the worst case, a full scan.
void BM_LeastConnectionsBusy(benchmark::State& state) {
  auto backend =
      make_backend(static_cast<int>(state.range(0)), conf::LoadBalancing::LeastConnections);
  for (const auto& endpoint : backend->endpoints())
    endpoint->add_active();
  pick_loop(state, *backend);
}
BENCHMARK(BM_LeastConnectionsBusy)->Arg(3)->Arg(100)->Arg(10'000);

// 1000 known clients in turn: a table hit, an eligibility check, a refresh.
void BM_AffinityHit(benchmark::State& state) {
  auto backend = make_backend(static_cast<int>(state.range(0)), conf::LoadBalancing::RoundRobin,
                              /*affinity=*/true);
  std::vector<std::string> clients;
  for (int i = 0; i < 1000; ++i)
    clients.push_back("192.168." + std::to_string(i / 250) + "." + std::to_string(i % 250));
  const auto now = Clock::now();
  std::size_t next = 0;
  const long before = allocations.load();
  for (auto _ : state) {
    benchmark::DoNotOptimize(backend->pick(PickRequest{clients[next], now, {}}));
    next = (next + 1) % clients.size();
  }
  report_allocations(state, before);
}
BENCHMARK(BM_AffinityHit)->Arg(3)->Arg(100)->Arg(10'000);

// Why Eligible is a FunctionRef: the same round-robin loop with the predicate behind a
// std::function built per pick, as Backend::pick builds it (a lambda capturing two refs).
template <typename Predicate>
std::size_t round_robin(std::span<const EndpointPtr> endpoints, std::atomic<std::uint64_t>& next,
                        const Predicate& eligible) {
  const std::size_t count = endpoints.size();
  const std::size_t start = next.fetch_add(1, std::memory_order_relaxed) % count;
  for (std::size_t i = 0; i < count; ++i)
    if (eligible(*endpoints[(start + i) % count])) return (start + i) % count;
  return Policy::kNone;
}

template <typename Wrapper>
void eligible_wrapper_loop(benchmark::State& state) {
  const auto endpoints = make_endpoints(3);
  std::atomic<std::uint64_t> next{0};
  const auto now = Clock::now();
  const Endpoint* excluded = nullptr;
  for (auto _ : state) {
    const auto serving = [&](const Endpoint& e) {
      return e.ready() && !e.ejected(now) && &e != excluded;
    };
    const Wrapper eligible(serving);
    benchmark::DoNotOptimize(round_robin(endpoints, next, eligible));
  }
}
void BM_EligibleStdFunction(benchmark::State& state) {
  eligible_wrapper_loop<std::function<bool(const Endpoint&)>>(state);
}
void BM_EligibleFunctionRef(benchmark::State& state) {
  eligible_wrapper_loop<Eligible>(state);
}
BENCHMARK(BM_EligibleStdFunction);
BENCHMARK(BM_EligibleFunctionRef);

}  // namespace
}  // namespace svcproxy::lb

BENCHMARK_MAIN();
