#pragma once
#include <string>

#include "conf/model.hpp"
namespace svcproxy::discovery {
std::string format_check_report(const conf::Snapshot& snapshot);
}
