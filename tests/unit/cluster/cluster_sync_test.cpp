// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "cluster/cluster_sync.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "fake_store.hpp"

namespace svcproxy::cluster {
namespace {

using testing::FakeStore;

void put(FakeStore& store, const std::string& key, const std::string& value) {
  KeyValue& kv = store.kvs[key];
  kv.key = key;
  kv.value = value;
  kv.mod_revision = ++store.revision;
}

Result<ListedObjects> list(FakeStore& store, std::int64_t page_size) {
  boost::asio::io_context io;
  Result<ListedObjects> listed;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        listed = co_await list_objects(store, RegistryLayout(), page_size);
      },
      boost::asio::detached);
  io.run();
  return listed;
}

TEST_CASE("a list longer than one page reads every object once, allocations left out") {
  FakeStore store;
  for (int i = 0; i < 25; ++i)
    put(store, "/registry/pods/default/p" + std::to_string(i), "{}");
  put(store, "/registry/ranges/serviceips/127.96.0.1", "default/web");
  put(store, "/registry/services/specs/default/web", "{}");
  put(store, "/registry0-outside", "x");
  for (const std::int64_t page : {1, 2, 7, 26, 100}) {
    CAPTURE(page);
    store.reads = 0;
    const auto listed = list(store, page);
    REQUIRE(listed);
    CHECK(listed.value->objects.size() == 26);
    CHECK(listed.value->objects.contains("/registry/services/specs/default/web"));
    CHECK_FALSE(listed.value->objects.contains("/registry/ranges/serviceips/127.96.0.1"));
    // Pages of `page` keys over 27 keys under the prefix: no page read twice.
    CHECK(store.reads <= 27 / page + 2);
  }
}

}  // namespace
}  // namespace svcproxy::cluster
