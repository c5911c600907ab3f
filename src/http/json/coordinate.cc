#include "http/json/coordinate.h"

namespace pc::http {

void write_coordinate(JsonWriter& w, const gossip::Coordinate& c) {
  w.begin_object();
  w.key("Vec");
  w.begin_array();
  for (double x : c.vec) w.number(x);
  w.end_array();
  w.key("Error");
  w.number(c.error);
  w.key("Adjustment");
  w.number(c.adjustment);
  w.key("Height");
  w.number(c.height);
  w.end_object();
}

}  // namespace pc::http
