#include "server/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <sstream>

#include "server/log.hpp"

namespace svcproxy::server {
namespace {

struct Sink {
  std::mutex mutex;
  conf::AccessLog settings;
  int fd = STDERR_FILENO;
  std::atomic<bool> json{false};  // read on every line without the lock
};

Sink& sink() {
  static Sink instance;
  return instance;
}

bool to_stderr(const conf::AccessLog& settings) {
  return settings.path.empty() || settings.path == "stderr";
}

int open_log_file(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

void write_line(const std::string& line) {
  Sink& s = sink();
  std::lock_guard lock(s.mutex);
  for (std::size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(s.fd, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

// Minimal JSON string escaping: quotes, backslashes and control characters.
std::string json_string(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string or_dash(const std::string& value) {
  return value.empty() ? "-" : value;
}

long long millis(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

}  // namespace

bool configure_access_log(const conf::AccessLog& settings, std::string& error) {
  const int fd = to_stderr(settings) ? STDERR_FILENO : open_log_file(settings.path);
  if (fd < 0) {
    error = "cannot open access log " + settings.path + ": " + std::strerror(errno);
    return false;
  }
  Sink& s = sink();
  std::lock_guard lock(s.mutex);
  if (s.fd != STDERR_FILENO) ::close(s.fd);
  s.fd = fd;
  s.settings = settings;
  s.json.store(settings.format == conf::AccessLog::Format::Json, std::memory_order_relaxed);
  return true;
}

void reopen_access_log() {
  conf::AccessLog settings;
  {
    std::lock_guard lock(sink().mutex);
    settings = sink().settings;
  }
  std::string ignored;
  if (!to_stderr(settings)) configure_access_log(settings, ignored);
}

void write_access_log(const L4AccessRecord& record) {
  std::ostringstream line;
  if (sink().json.load(std::memory_order_relaxed)) {
    line << "{\"time\":" << json_string(utc_timestamp())
         << ",\"kind\":\"l4\",\"service\":" << json_string(record.service)
         << ",\"client\":" << json_string(record.client) << ",\"pod\":" << json_string(record.pod)
         << ",\"upstream\":" << json_string(record.upstream)
         << ",\"bytes_received\":" << record.bytes_received
         << ",\"bytes_sent\":" << record.bytes_sent
         << ",\"duration_ms\":" << millis(record.duration)
         << ",\"close\":" << json_string(record.close_reason) << "}\n";
  } else {
    line << utc_timestamp() << " l4 service=" << record.service << " client=" << record.client
         << " pod=" << or_dash(record.pod) << " upstream=" << or_dash(record.upstream)
         << " received=" << record.bytes_received << " sent=" << record.bytes_sent
         << " duration_ms=" << millis(record.duration) << " close=" << record.close_reason << "\n";
  }
  write_line(line.str());
}

}  // namespace svcproxy::server
