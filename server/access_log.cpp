#include "server/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <mutex>

#include "server/log.hpp"

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

std::string_view or_dash(std::string_view value) {
  return value.empty() ? std::string_view("-") : std::string_view(value);
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
  if (sink().json.load(std::memory_order_relaxed)) {
    line += "{\"time\":\"";
    append_timestamp(line);
    line += "\",\"kind\":\"l4\",\"service\":";
    append_json_string(line, r.service);
    line += ",\"client\":";
    append_json_string(line, r.client);
    line += ",\"pod\":";
    append_json_string(line, r.pod);
    line += ",\"upstream\":";
    append_json_string(line, r.upstream);
    line += ",\"bytes_received\":";
    append_number(line, static_cast<long long>(r.bytes_received));
    line += ",\"bytes_sent\":";
    append_number(line, static_cast<long long>(r.bytes_sent));
    line += ",\"duration_ms\":";
    append_number(line, millis(r.duration));
    line += ",\"close\":";
    append_json_string(line, r.close_reason);
    line += "}\n";
  } else {
    append_timestamp(line);
    line += " l4 service=";
    line += r.service;
    line += " client=";
    line += r.client;
    line += " pod=";
    line += or_dash(r.pod);
    line += " upstream=";
    line += or_dash(r.upstream);
    line += " received=";
    append_number(line, static_cast<long long>(r.bytes_received));
    line += " sent=";
    append_number(line, static_cast<long long>(r.bytes_sent));
    line += " duration_ms=";
    append_number(line, millis(r.duration));
    line += " close=";
    line += r.close_reason;
    line += "\n";
  }
}

void write_access_log(const L4AccessRecord& record) {
  thread_local std::string line;
  line.clear();
  append_access_log_line(record, line);
  write_line(line);
}

void write_access_log(const L7AccessRecord& record) {
  thread_local std::string line;
  line.clear();
  append_access_log_line(record, line);
  write_line(line);
}

void write_access_log_lines(std::string_view lines) {
  write_line(lines);
}

void append_access_log_line(const L7AccessRecord& r, std::string& line) {
  if (sink().json.load(std::memory_order_relaxed)) {
    line += "{\"time\":\"";
    append_timestamp(line);
    line += "\",\"kind\":\"http\",\"service\":";
    append_json_string(line, r.service);
    line += ",\"client\":";
    append_json_string(line, r.client);
    line += ",\"pod\":";
    if (r.pod_name.empty()) {
      line += "\"\"";
    } else {
      line += '"';
      line += r.pod_namespace;
      line += '/';
      line += r.pod_name;
      line += '"';
    }
    line += ",\"method\":";
    append_json_string(line, r.method);
    line += ",\"target\":";
    append_json_string(line, r.target);
    line += ",\"status\":";
    append_number(line, r.status);
    line += ",\"bytes_received\":";
    append_number(line, static_cast<long long>(r.bytes_received));
    line += ",\"bytes_sent\":";
    append_number(line, static_cast<long long>(r.bytes_sent));
    line += ",\"duration_ms\":";
    append_number(line, millis(r.duration));
    line += ",\"upstream_ms\":";
    append_number(line, millis(r.upstream_duration));
    line += ",\"error\":";
    append_json_string(line, r.error);
    line += "}\n";
  } else {
    append_timestamp(line);
    line += " http service=";
    line += r.service;
    line += " client=";
    line += r.client;
    line += " pod=";
    if (r.pod_name.empty()) {
      line += '-';
    } else {
      line += r.pod_namespace;
      line += '/';
      line += r.pod_name;
    }
    line += " method=";
    line += r.method.empty() ? std::string_view("-") : r.method;
    line += " target=";
    line += r.target.empty() ? std::string_view("-") : r.target;
    line += " status=";
    append_number(line, r.status);
    line += " received=";
    append_number(line, static_cast<long long>(r.bytes_received));
    line += " sent=";
    append_number(line, static_cast<long long>(r.bytes_sent));
    line += " duration_ms=";
    append_number(line, millis(r.duration));
    line += " upstream_ms=";
    append_number(line, millis(r.upstream_duration));
    if (!r.error.empty()) {
      line += " error=";
      line += r.error;
    }
    line += '\n';
  }
}

}  // namespace svcproxy::server
