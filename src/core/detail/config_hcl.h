#pragma once
// HCL configuration files (`*.hcl`): the document read by core/hcl.h, turned into the JSON
// value a JSON file with the same meaning holds, so both go through one schema check, merge
// and decoding. Private to core (config.cc is its only includer), so Boost may appear here.
//
// Rules (HCL1's JSON equivalence, as Consul reads its HCL files):
//   - `key = value`: strings, booleans, lists; numbers written as integers become JSON
//     integers, others doubles;
//   - a block `name { ... }` is an object; labels nest: `sink "a" { ... }` is
//     {"sink": {"a": {...}}};
//   - a key repeated in one object (two labelled blocks, `sink "a" {}` and `sink "b" {}`)
//     merges when both values are objects; otherwise the later value wins.
#include <boost/json/value.hpp>
#include <string_view>

#include "core/hcl.h"
#include "core/result.h"

namespace pc::core::detail {

// InvalidArgument starting "At line:column:" for text that is not HCL.
Result<boost::json::value> hcl_config_to_json(std::string_view text);

// One value of a parsed tree under the same rules (the loader converts a file once it has
// taken out what needs positions, such as service definitions).
boost::json::value hcl_value_to_json(const hcl::Value& value);

}  // namespace pc::core::detail
