#include "server/control/config_watcher.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace svcproxy::server;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr auto kDebounce = 100ms;

struct TempDir {
  fs::path path;
  TempDir() {
    char pattern[] = "/tmp/svcproxy-watch-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// An editor's save: write a temporary, rename it over the file.
void save_by_rename(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp~";
  write(temporary, text);
  fs::rename(temporary, path);
}

struct Fixture {
  TempDir dir;
  boost::asio::io_context io;
  int calls = 0;

  std::unique_ptr<ConfigWatcher> watch(std::vector<std::string> paths) {
    auto watcher = std::make_unique<ConfigWatcher>(
        io, std::move(paths), [this] { ++calls; }, kDebounce);
    CHECK(watcher->start().empty());
    return watcher;
  }
  void settle() { io.run_for(kDebounce * 4); }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "ConfigWatcher: a file replaced by rename triggers one call") {
  const fs::path file = dir.path / "svcproxy.yaml";
  write(file, "a");
  const fs::path other = dir.path / "unrelated.yaml";
  auto watcher = watch({file.string()});
  save_by_rename(file, "b");
  settle();
  CHECK(calls == 1);
  write(other, "x");  // same directory, not watched
  settle();
  CHECK(calls == 1);
  write(file, "c");  // written in place
  settle();
  CHECK(calls == 2);
}

TEST_CASE_FIXTURE(Fixture, "ConfigWatcher: a burst of changes is debounced into one call") {
  const fs::path file = dir.path / "svcproxy.yaml";
  write(file, "a");
  auto watcher = watch({file.string()});
  for (int i = 0; i < 5; ++i) {
    save_by_rename(file, std::to_string(i));
    io.run_for(kDebounce / 4);
  }
  CHECK(calls == 0);
  settle();
  CHECK(calls == 1);
}

TEST_CASE_FIXTURE(Fixture, "ConfigWatcher: a directory is watched for its YAML files") {
  auto watcher = watch({dir.path.string()});
  write(dir.path / "notes.txt", "x");
  write(dir.path / ".service.yaml.swp", "x");
  settle();
  CHECK(calls == 0);
  write(dir.path / "service.yaml", "x");
  settle();
  CHECK(calls == 1);
  fs::remove(dir.path / "service.yml");
  write(dir.path / "b.yml", "x");
  settle();
  CHECK(calls == 2);
  fs::remove(dir.path / "b.yml");
  settle();
  CHECK(calls == 3);
}

TEST_CASE_FIXTURE(Fixture, "ConfigWatcher: no call after it is destroyed") {
  const fs::path file = dir.path / "svcproxy.yaml";
  write(file, "a");
  auto watcher = watch({file.string()});
  save_by_rename(file, "b");
  io.run_for(kDebounce / 4);  // event read, debounce pending
  watcher.reset();
  settle();
  CHECK(calls == 0);
}

TEST_CASE_FIXTURE(Fixture, "ConfigWatcher: a missing directory is reported") {
  ConfigWatcher watcher(
      io, {(dir.path / "missing" / "x.yaml").string()}, [] {}, kDebounce);
  CHECK(watcher.start().size() == 1);
}
