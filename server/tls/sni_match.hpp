// Which certificate a TLS client gets for the name it asks for (SNI), among a Service's
// Secrets: the most specific of their DNS names that matches, as RFC 6125 matches them.
// Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace svcproxy::server {

// `names[i]` are certificate i's DNS names. An exact name (case-insensitive) beats any
// wildcard; a wildcard "*.example.com" matches one whole left-most label ("a.example.com",
// not "example.com" nor "a.b.example.com"), and a longer wildcard suffix beats a shorter
// one. Ties go to the earlier certificate. nullopt when nothing matches (or no name was
// sent): the caller falls back to the first certificate, or refuses under strict SNI.
std::optional<std::size_t> choose_certificate(const std::vector<std::vector<std::string>>& names,
                                              std::string_view server_name);

}  // namespace svcproxy::server
