#include "server/metrics/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

namespace svcproxy::server {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_ticks = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

// /proc/self/stat after the ")" that ends the command name (which may hold spaces).
std::optional<ProcStat> read_proc_stat() {
  std::ifstream in("/proc/self/stat");
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  if (f.size() < 22) return std::nullopt;  // f[0] is field 3 (state) of proc(5)
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  ProcStat stat;
  stat.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / tick;  // utime + stime
  stat.start_ticks = std::stod(f[19]);
  stat.virtual_bytes = std::stod(f[20]);
  stat.resident_bytes = std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  return stat;
}

std::optional<double> boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double value = 0;
      if (in >> value) return value;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

double open_fds() {
  std::error_code error;
  double count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error))
    ++count;
  return count;
}

prometheus::MetricFamily single(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter)
    metric.counter.value = value;
  else
    metric.gauge.value = value;
  return {name, help, type, {metric}};
}

}  // namespace

std::vector<prometheus::MetricFamily> process_families() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0)
    families.push_back(single("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  families.push_back(single("process_open_fds", "Number of open file descriptors.",
                            MetricType::Gauge, open_fds()));
  const auto stat = read_proc_stat();
  if (!stat) return families;
  families.push_back(single("process_cpu_seconds_total", "Total user and system CPU time spent.",
                            MetricType::Counter, stat->cpu_seconds));
  families.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                            MetricType::Gauge, stat->resident_bytes));
  families.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                            MetricType::Gauge, stat->virtual_bytes));
  if (const auto boot = boot_time_seconds())
    families.push_back(
        single("process_start_time_seconds", "Start time of the process since the Unix epoch.",
               MetricType::Gauge,
               *boot + stat->start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK))));
  return families;
}

}  // namespace svcproxy::server
