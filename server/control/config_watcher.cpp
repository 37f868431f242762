#include "server/control/config_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

namespace svcproxy::server {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kEvents =
    IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

bool is_yaml(const std::string& name) {
  const auto extension = fs::path(name).extension();
  return !name.starts_with(".") && (extension == ".yaml" || extension == ".yml");
}

}  // namespace

struct ConfigWatcher::Impl : std::enable_shared_from_this<Impl> {
  // What one watched directory is watched for: some file names, and/or every YAML file.
  struct Target {
    std::string directory;
    std::vector<std::string> names;
    bool any_yaml = false;

    bool wants(const std::string& name) const {
      if (any_yaml && is_yaml(name)) return true;
      return std::find(names.begin(), names.end(), name) != names.end();
    }
  };

  Impl(asio::io_context& io, std::vector<std::string> paths, Callback callback,
       std::chrono::milliseconds debounce)
      : paths(std::move(paths)),
        on_change(std::move(callback)),
        debounce(debounce),
        descriptor(io),
        timer(io) {}

  std::vector<std::string> start() {
    std::vector<std::string> problems;
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return {std::string("inotify: ") + std::strerror(errno)};
    descriptor.assign(fd);
    std::map<std::string, Target> targets;  // by directory
    for (const auto& path : paths) {
      std::error_code error;
      if (fs::is_directory(path, error)) {
        Target& target = targets[path];
        target.directory = path;
        target.any_yaml = true;
      } else {
        const fs::path file(path);
        const std::string directory =
            file.parent_path().empty() ? "." : file.parent_path().string();
        Target& target = targets[directory];
        target.directory = directory;
        target.names.push_back(file.filename().string());
      }
    }
    for (auto& [directory, target] : targets) {
      const int wd = ::inotify_add_watch(fd, directory.c_str(), kEvents);
      if (wd < 0) {
        problems.push_back(directory + ": " + std::strerror(errno));
        continue;
      }
      watches[wd] = std::move(target);
    }
    wait();
    return problems;
  }

  void wait() {
    descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& error) {
                            if (error || self->stopped) return;
                            if (self->drain_events()) self->arm_debounce();
                            self->wait();
                          });
  }

  // Reads every queued event; true when one concerns a watched file.
  bool drain_events() {
    alignas(inotify_event) std::array<char, 16 * 1024> buffer;
    bool relevant = false;
    for (;;) {
      const ssize_t length = ::read(descriptor.native_handle(), buffer.data(), buffer.size());
      if (length <= 0) break;  // EAGAIN: all read
      for (ssize_t offset = 0; offset < length;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
        offset += sizeof(inotify_event) + event->len;
        const auto found = watches.find(event->wd);
        if (found == watches.end() || event->len == 0) continue;
        if (found->second.wants(event->name)) relevant = true;
      }
    }
    return relevant;
  }

  // Restarting the timer cancels the previous wait: the callback runs `debounce` after the
  // last relevant event.
  void arm_debounce() {
    timer.expires_after(debounce);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error || self->stopped) return;
      self->on_change();
    });
  }

  void stop() {
    stopped = true;
    timer.cancel();
    boost::system::error_code ignored;
    descriptor.close(ignored);
  }

  const std::vector<std::string> paths;
  const Callback on_change;
  const std::chrono::milliseconds debounce;
  asio::posix::stream_descriptor descriptor;
  asio::steady_timer timer;
  std::map<int, Target> watches;  // by inotify watch descriptor
  bool stopped = false;
};

ConfigWatcher::ConfigWatcher(asio::io_context& control, std::vector<std::string> paths,
                             Callback on_change, std::chrono::milliseconds debounce)
    : impl_(std::make_shared<Impl>(control, std::move(paths), std::move(on_change), debounce)) {}

ConfigWatcher::~ConfigWatcher() {
  impl_->stop();
}

std::vector<std::string> ConfigWatcher::start() {
  return impl_->start();
}

}  // namespace svcproxy::server
