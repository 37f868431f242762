#include "conf/stream_reader.hpp"

#include <doctest/doctest.h>

#include <string>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::joined;

// Appended piece by piece: GCC 12 at -O2 warns (-Warray-bounds) on `string&& + string&&`.
void add_service(std::string& text, int i) {
  text += "---\napiVersion: v1\nkind: Service\nmetadata: {name: s-";
  text += std::to_string(i);
  text += "}\nspec: {ports: [{port: 80}]}\n";
}

void add_proxy_config(std::string& text) {
  text += "---\napiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec: {}\n";
}

// `count` Services, with the ProxyConfig after the Service `config_after` (if any).
std::string stream(int count, int config_after = -1) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    add_service(text, i);
    if (i == config_after) add_proxy_config(text);
  }
  return text;
}

LoadState read(const std::string& text, DocumentCache* cache = nullptr) {
  LoadState state;
  state.cache = cache;
  read_stream(text, "test.yaml", state);
  return state;
}

}  // namespace

TEST_CASE("documents read on several threads land in document order") {
  // More documents than are read on one thread, with a ProxyConfig (read in its place).
  const LoadState state = read(stream(1000, 600));
  INFO(joined(state.errors));
  CHECK(state.errors.empty());
  REQUIRE(state.snapshot.services.size() == 1000);
  for (int i = 0; i < 1000; ++i)
    CHECK(state.snapshot.services[static_cast<std::size_t>(i)].name == "s-" + std::to_string(i));
  REQUIRE(state.proxy_config_at);
  CHECK(state.proxy_config_at->line == 5 * 601 + 2);  // five lines a Service
  CHECK(state.files == std::vector<std::string>{"test.yaml"});
}

TEST_CASE("diagnostics of documents read alone come in document order too") {
  std::string text;
  for (int i = 0; i < 600; ++i) {
    text += "---\napiVersion: v1\nkind: Gadget";
    text += std::to_string(i);
    text += '\n';
  }
  const LoadState state = read(text);
  REQUIRE(state.warnings.size() == 600);
  for (std::size_t i = 0; i < 600; ++i)
    CHECK(state.warnings[i].location.line == static_cast<int>(3 * i + 2));
}

TEST_CASE("a second ProxyConfig is an error however the documents around it were read") {
  std::string text = stream(400, 100);
  add_proxy_config(text);
  const LoadState state = read(text);
  REQUIRE(state.errors.size() == 1);
  CHECK(state.errors[0].message.starts_with("only one ProxyConfig is allowed"));
}

TEST_CASE("with a cache, unchanged documents are taken from it and give the same objects") {
  DocumentCache cache;
  const std::string text = stream(3, 0);
  const LoadState first = read(text, &cache);
  cache.end_load();
  CHECK(cache.size() == 3);  // the Services; a ProxyConfig is never cached

  const LoadState again = read(text, &cache);
  cache.end_load();
  REQUIRE(again.snapshot.services.size() == 3);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(ServiceList::same_object(first.snapshot.services, i, again.snapshot.services, i));
  CHECK(again.proxy_config_at);

  // One Service changed: it alone is read again.
  std::string changed = text;
  changed.replace(changed.find("s-2"), 3, "s-9");
  const LoadState third = read(changed, &cache);
  REQUIRE(third.snapshot.services.size() == 3);
  CHECK(ServiceList::same_object(again.snapshot.services, 1, third.snapshot.services, 1));
  CHECK_FALSE(ServiceList::same_object(again.snapshot.services, 2, third.snapshot.services, 2));
  CHECK(third.snapshot.services[2].name == "s-9");
}

}  // namespace svcproxy::conf
