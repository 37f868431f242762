// Standard base64 (RFC 4648, with padding), as in a Secret's `data`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace svcproxy::conf {

// nullopt for anything that is not valid padded base64. Whitespace (line breaks from
// `base64 -w 76`) is ignored, as kubectl does.
std::optional<std::string> decode_base64(std::string_view text);

// Padded standard base64, no line breaks.
std::string encode_base64(std::string_view bytes);

}  // namespace svcproxy::conf
