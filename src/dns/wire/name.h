#pragma once
// Domain names between their text form ("web.service.consul.") and wire labels.
//
// Text form follows the master-file conventions (RFC 1035 5.1, RFC 4343): labels are joined
// with '.', a '.' or '\' inside a label is written "\." or "\\", and any byte outside the
// printable ASCII range is written "\DDD" (three decimal digits). The root is ".". A name
// without a trailing dot is taken as fully qualified. Pure: no I/O, no allocation beyond the
// returned values.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pc::dns::wire {

// RFC 1035 2.3.4: a label holds at most 63 bytes, a name at most 255 bytes on the wire
// (length bytes and the terminating zero included).
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::size_t kMaxNameLength = 255;

// Raw label bytes, most specific label first; the root name is an empty vector.
using Labels = std::vector<std::string>;

// Parses a text name into labels; kInvalidArgument on an empty label ("a..b"), a bad escape,
// a label over 63 bytes or a name over 255 wire bytes.
core::Result<Labels> parse_name(std::string_view text);

// Formats labels as text with a trailing dot, escaping as described above.
std::string format_name(const Labels& labels);

// Uncompressed wire form of a text name ("\3web\7service\6consul\0").
core::Result<std::vector<std::uint8_t>> name_to_wire(std::string_view text);

// Text form of an uncompressed wire name that fills `wire` exactly.
core::Result<std::string> name_from_wire(std::span<const std::uint8_t> wire);

// Size of the labels on the wire, uncompressed.
std::size_t wire_length(const Labels& labels);

// RFC 4343: ASCII-only case-insensitive comparison of two text names (trailing dot optional).
bool names_equal(std::string_view a, std::string_view b);

}  // namespace pc::dns::wire
