#pragma once
// Small string helpers used across modules.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pc::core {

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view s, std::string_view prefix);
std::vector<std::string> split(std::string_view s, char sep);
// Appends `text` as the body of a JSON string (no surrounding quotes) the way Go's
// encoding/json writes one, so our JSON matches Consul's byte for byte: '"' and '\\' escaped,
// \n \r \t \b \f short, other control bytes as \u00XX, HTML's '<' '>' '&' and U+2028/U+2029
// as \uXXXX, each byte of invalid UTF-8 as \ufffd; DEL and valid UTF-8 pass through.
void append_json_escaped(std::string& out, std::string_view text);
// append_json_escaped into a new string.
std::string json_escape(std::string_view s);
// Standard base64 (RFC 4648, with padding), as Go's encoding/json writes []byte.
std::string base64_encode(std::string_view bytes);
// Accepts padded or unpadded standard base64; returns false on any other byte.
bool base64_decode(std::string_view text, std::string& out);

// The length (2 to 4) of the valid UTF-8 sequence of more than one byte starting at s[i],
// with its code point in `rune`; 0 when there is none (a lone or truncated sequence, an
// overlong form, a surrogate, past U+10FFFF), as Go's utf8.DecodeRune judges it.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& rune);

// Appends code point `cp` (at most U+10FFFF, not a surrogate: the caller checks) as UTF-8.
void append_utf8(std::string& out, std::uint32_t cp);

// Go's strconv.Quote (fmt's %q), so error texts match Consul's byte for byte: printable
// text as is, quotes and backslashes escaped, control bytes and invalid UTF-8 as \x..
std::string go_quote(std::string_view s);

// Names the calling thread (at most 15 bytes are kept), so top -H and gdb tell the agent's
// threads apart: pc-http-N, pc-apply, pc-timers.
void set_thread_name(std::string_view name);

}  // namespace pc::core
