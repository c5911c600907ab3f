#include "cli/commands/helpers.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <iterator>
#include <ostream>
#include <sstream>

#include "core/flags.h"

namespace pc::cli {
namespace {

// Code points in UTF-8 text: what Go's fmt and tabwriter count as a cell's width.
std::size_t display_width(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string_view trim_space(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\v\f";
  std::size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  std::size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

void pad_to(std::string& out, std::string_view cell, std::size_t width) {
  out += cell;
  std::size_t w = display_width(cell);
  if (w < width) out.append(width - w, ' ');
}

}  // namespace

std::string go_errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] + 32);
  return text;
}

core::Result<std::string> load_data_source(const std::string& data, Context& ctx) {
  auto read_stdin = [&]() -> core::Result<std::string> {
    std::string text{std::istreambuf_iterator<char>(*ctx.in), std::istreambuf_iterator<char>()};
    if (ctx.in->bad()) {
      return core::make_error(core::Code::kIoError, "Failed to read stdin: read error");
    }
    return text;
  };
  if (data.empty()) return std::string();
  if (data == "-") return read_stdin();
  if (data[0] != '@') return data;
  std::string path = data.substr(1);
  if (path == "-") return read_stdin();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::make_error(core::Code::kIoError,
                            "Failed to read file: open " + path + ": " + go_errno_text(errno));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void add_map_flag(core::FlagSet& flags, std::string_view name,
                  std::map<std::string, std::string>* target, std::string_view usage) {
  flags.add_value(
      name,
      [target](std::string_view text) -> core::Status {
        std::size_t eq = text.find('=');
        if (eq == std::string_view::npos) {
          return core::make_error(core::Code::kInvalidArgument,
                                  "Missing \"=\" value in argument: " + std::string(text));
        }
        (*target)[std::string(text.substr(0, eq))] = std::string(text.substr(eq + 1));
        return core::ok();
      },
      usage);
}

std::string columnize(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::size_t w = display_width(trim_space(row[i]));
      if (widths.size() <= i) widths.push_back(0);
      if (widths[i] < w) widths[i] = w;
    }
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string_view cell = trim_space(row[i]);
      if (i + 1 == row.size()) {
        out += cell;
      } else {
        pad_to(out, cell, widths[i]);
        out += "  ";
      }
    }
    if (r + 1 < rows.size()) out += '\n';
  }
  return out;
}

std::string tabwrite(const std::vector<std::vector<std::string>>& rows, std::size_t padding) {
  // Only tab-terminated cells (all but a row's last) take part in a column's width.
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], display_width(row[i]) + padding);
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        out += row[i];
      } else {
        pad_to(out, row[i], widths[i]);
      }
    }
    out += '\n';
  }
  return out;
}

std::optional<HttpResponse> call_agent_ok(Context& ctx, const HttpFlags& flags, CallKind kind,
                                          std::string_view method, std::string_view path,
                                          QueryParams params, std::string_view error_prefix,
                                          std::string_view body) {
  core::Result<HttpResponse> res =
      call_agent(ctx, flags, kind, method, path, std::move(params), body,
                 body.empty() ? Headers{} : Headers{{"Content-Type", "application/json"}});
  if (!res) {
    *ctx.err << res.error().message << "\n";
    return std::nullopt;
  }
  if (res->status != 200) {
    *ctx.err << error_prefix << unexpected_status(*res) << "\n";
    return std::nullopt;
  }
  return std::move(*res);
}

bool expect_no_arguments(const std::vector<std::string>& positional, Context& ctx) {
  if (positional.empty()) return true;
  *ctx.err << "Too many arguments (expected 0, got " << positional.size() << ")\n";
  return false;
}

}  // namespace pc::cli
