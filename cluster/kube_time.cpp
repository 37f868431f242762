#include "cluster/kube_time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace svcproxy::cluster {

std::string rfc3339(double unix_seconds) {
  const std::time_t whole = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string rfc3339_now() {
  return rfc3339(
      static_cast<double>(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

std::string rfc3339_micro_now() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::string text = rfc3339(static_cast<double>(micros / 1000000));
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lldZ", static_cast<long long>(micros % 1000000));
  text.pop_back();  // the 'Z'
  return text + fraction;
}

}  // namespace svcproxy::cluster
