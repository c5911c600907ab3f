// A Vivaldi coordinate as Consul's JSON writes it ({Vec, Error, Adjustment, Height}): one
// writer for the coordinate endpoints' answers and the update body agents send.
#pragma once

#include "gossip/core/coordinate.h"
#include "http/json/writer.h"

namespace pc::http {

void write_coordinate(JsonWriter& w, const gossip::Coordinate& c);

}  // namespace pc::http
