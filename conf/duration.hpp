// Durations as written in the configuration: "500ms", "2s", "5m", "1h", "1m30s".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "conf/model.hpp"

namespace svcproxy::conf {

// nullopt for anything that is not a non-negative duration with units ms, s, m or h.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest exact form: 1500ms -> "1500ms", 120000ms -> "2m".
std::string format_duration(Duration duration);

}  // namespace svcproxy::conf
