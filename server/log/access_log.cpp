#include "server/log/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <mutex>

#include "server/log/log.hpp"

namespace svcproxy::server {
namespace {

struct Sink {
  std::mutex mutex;
  conf::AccessLog settings;
  int fd = STDERR_FILENO;
  std::atomic<bool> json{false};  // read on every line without the lock
  std::atomic<bool> enabled{true};
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

void write_line(std::string_view line) {
  Sink& s = sink();
  std::lock_guard lock(s.mutex);
  for (std::size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(s.fd, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

long long millis(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// Minimal JSON string escaping: quotes, backslashes and control characters.
void append_json_string(std::string& out, std::string_view value) {
  out += '"';
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
  out += '"';
}

void append_number(std::string& out, long long value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// RFC 3339 UTC with milliseconds, like utc_timestamp(), formatting the date part once per
// second per thread.
void append_timestamp(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  thread_local std::size_t cached_length = 0;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  if (seconds != cached_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    cached_length = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &utc);
    cached_second = seconds;
  }
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  out.append(cached, cached_length);
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
}

// One access-log line in the configured format: JSON keys and text keys side by side, so
// both formats always carry the same fields in the same order.
class AccessLine {
 public:
  AccessLine(std::string& line, std::string_view kind)
      : line_(line), json_(sink().json.load(std::memory_order_relaxed)) {
    if (json_) {
      line_ += "{\"time\":\"";
      append_timestamp(line_);
      line_ += "\",\"kind\":\"";
      line_ += kind;
      line_ += '"';
    } else {
      append_timestamp(line_);
      line_ += ' ';
      line_ += kind;
    }
  }

  void text(std::string_view json_key, std::string_view text_key, std::string_view value) {
    key(json_key, text_key);
    if (json_) {
      append_json_string(line_, value);
    } else {
      line_ += value;
    }
  }
  // Text writes "-" for an empty value; JSON writes "".
  void text_or_dash(std::string_view json_key, std::string_view text_key, std::string_view value) {
    text(json_key, text_key, json_ || !value.empty() ? value : std::string_view("-"));
  }
  // Text leaves the field out when it is empty; JSON always has it.
  void text_if_any(std::string_view json_key, std::string_view text_key, std::string_view value) {
    if (json_ || !value.empty()) text(json_key, text_key, value);
  }
  // namespace/name, or as text_or_dash when there is no name. Kubernetes names need no
  // escaping.
  void name_or_dash(std::string_view json_key, std::string_view text_key,
                    std::string_view name_space, std::string_view name) {
    if (name.empty()) return text_or_dash(json_key, text_key, name);
    key(json_key, text_key);
    if (json_) line_ += '"';
    // A node an edge forwards to has no namespace: just its name, as pod_key() has it.
    if (!name_space.empty()) {
      line_ += name_space;
      line_ += '/';
    }
    line_ += name;
    if (json_) line_ += '"';
  }
  void number(std::string_view json_key, std::string_view text_key, long long value) {
    key(json_key, text_key);
    append_number(line_, value);
  }
  void finish() { line_ += json_ ? "}\n" : "\n"; }

 private:
  void key(std::string_view json_key, std::string_view text_key) {
    if (json_) {
      line_ += ",\"";
      line_ += json_key;
      line_ += "\":";
    } else {
      line_ += ' ';
      line_ += text_key;
      line_ += '=';
    }
  }

  std::string& line_;
  bool json_;
};

}  // namespace

bool access_log_enabled() {
  return sink().enabled.load(std::memory_order_relaxed);
}

bool configure_access_log(const conf::AccessLog& settings, std::string& error) {
  const int fd =
      !settings.enabled || to_stderr(settings) ? STDERR_FILENO : open_log_file(settings.path);
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
  s.enabled.store(settings.enabled, std::memory_order_relaxed);
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

void append_access_log_line(const L4AccessRecord& r, std::string& line) {
  AccessLine out(line, "l4");
  out.text("service", "service", r.service);
  out.text("client", "client", r.client);
  out.text_or_dash("pod", "pod", r.pod);
  out.text_or_dash("upstream", "upstream", r.upstream);
  out.number("bytes_received", "received", static_cast<long long>(r.bytes_received));
  out.number("bytes_sent", "sent", static_cast<long long>(r.bytes_sent));
  out.number("duration_ms", "duration_ms", millis(r.duration));
  out.text("close", "close", r.close_reason);
  out.finish();
}

namespace {

template <class Record>
void write_record(const Record& record) {
  thread_local std::string line;
  line.clear();
  append_access_log_line(record, line);
  write_line(line);
}

}  // namespace

void write_access_log(const L4AccessRecord& record) {
  write_record(record);
}

void write_access_log(const L7AccessRecord& record) {
  write_record(record);
}

void write_access_log_lines(std::string_view lines) {
  write_line(lines);
}

void append_access_log_line(const L7AccessRecord& r, std::string& line) {
  AccessLine out(line, "http");
  out.text("service", "service", r.service);
  out.text("client", "client", r.client);
  out.name_or_dash("pod", "pod", r.pod_namespace, r.pod_name);
  out.text_or_dash("method", "method", r.method);
  out.text_or_dash("target", "target", r.target);
  out.number("status", "status", r.status);
  out.number("bytes_received", "received", static_cast<long long>(r.bytes_received));
  out.number("bytes_sent", "sent", static_cast<long long>(r.bytes_sent));
  out.number("duration_ms", "duration_ms", millis(r.duration));
  out.number("upstream_ms", "upstream_ms", millis(r.upstream_duration));
  out.text_if_any("error", "error", r.error);
  out.finish();
}

}  // namespace svcproxy::server
