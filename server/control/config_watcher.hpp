// Watches the --config paths with inotify and calls back once the files have been quiet for
// a moment, so an editor's save (write to a temporary, rename over the file) or a
// `kubectl`-style folder rewrite triggers one reload, not ten. Runs on the control
// io_context: events, the debounce timer and the callback all happen on its thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace svcproxy::server {

class ConfigWatcher {
 public:
  using Callback = std::function<void()>;
  static constexpr std::chrono::milliseconds kDefaultDebounce{200};

  // A file is watched through its directory, filtered by name (renames replace the inode a
  // direct watch would follow); a directory is watched for its *.yaml / *.yml entries.
  ConfigWatcher(boost::asio::io_context& control, std::vector<std::string> paths,
                Callback on_change, std::chrono::milliseconds debounce = kDefaultDebounce);
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Starts watching. Returns the problems (a path that cannot be watched, no inotify); the
  // paths that could be watched are watched regardless.
  std::vector<std::string> start();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the handlers queued on the io_context
};

}  // namespace svcproxy::server
