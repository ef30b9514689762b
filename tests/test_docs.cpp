// The documentation's checks: README.md, docs/*.md and bench/README.md.
//
// Code: every ```cpp block is a region of a test file in tests/, compiled and
// run there: the lines between "// DOC begin <page>:<name>" and "// DOC end"
// (dedented by the begin marker's indentation), where <page> is the page's
// path from the repository root ("README.md", "docs/qat.md"). Each page must
// quote each of its regions exactly once, verbatim, and have no other C++
// block but outlines: a block right after a line starting with
// "<!-- outline, not compiled" (placeholders such as `for (...)`; the comment
// says why it is not compiled). Every fence names its language, so C++ cannot
// hide in an untagged block. A page change not made in the test too fails
// here; an API change that breaks a block fails to compile.
//
// Spelling tables: a table whose header starts "| libtorch | xgrad |" maps
// libtorch's names to xgrad's, one row each. Every row's xgrad cell has code
// spans, and every one of them occurs (up to spacing) in a rows region of a
// test file, "// DOC rows <page>" ... "// DOC end", compiled and run there with
// checks of what the row says (rows regions are not quoted by the page).
//
// References: every relative link (and image) resolves to a file or folder of
// the repository, every #anchor to a heading of the page it points at, every
// file a page names (`docs/qat.md`, `xgrad/quant/qat/workflow.hpp`, `test_qat.cpp`)
// exists in the repository, and nothing points at the developers' material
// outside it. Every page is linked from README.md and from docs/README.md.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(test_docs)

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = "..";  // tests run in tests/

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path << " (tests run in tests/)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The pages: README.md, bench/README.md and every docs/*.md, as paths from
// the repository root with '/' separators.
std::vector<std::string> pages() {
  std::vector<std::string> out = {"README.md", "bench/README.md"};
  std::vector<std::string> docs;
  for (const auto& entry : fs::directory_iterator(kRoot / "docs")) {
    if (entry.is_regular_file() && entry.path().extension() == ".md")
      docs.push_back("docs/" + entry.path().filename().string());
  }
  std::sort(docs.begin(), docs.end());
  out.insert(out.end(), docs.begin(), docs.end());
  return out;
}

// Every file and folder of the repository, as paths from its root: the
// folders a checkout has, without build directories and .git.
struct RepoFiles {
  std::set<std::string> paths;
  RepoFiles() {
    for (const auto& top : fs::directory_iterator(kRoot)) {
      const std::string name = top.path().filename().string();
      if (starts_with(name, "build") || name == ".git" || name == "subprojects") continue;
      paths.insert(name);
      if (!top.is_directory()) continue;
      for (auto it = fs::recursive_directory_iterator(top.path()); it != fs::end(it); ++it)
        paths.insert(fs::relative(it->path(), kRoot).generic_string());
    }
  }
  bool has(const std::string& path) const { return paths.count(path) > 0; }
  // A path named in prose: from the page's folder, from the root, as an
  // include path (framework/, modules/), or as the tail of a repository path
  // (`quant/qat.hpp`, `test_qat.cpp`).
  // Pages (.md) only by their path, from the page's folder or the root.
  bool names_a_file(const std::string& page_dir, const std::string& name) const {
    if (has(normal(page_dir + name)) || has(normal(name))) return true;
    if (name.size() >= 3 && name.compare(name.size() - 3, 3, ".md") == 0) return false;
    if (has("framework/" + name) || has("modules/" + name)) return true;
    const std::string tail = "/" + name;
    return std::any_of(paths.begin(), paths.end(), [&](const std::string& p) {
      return p.size() > tail.size() && p.compare(p.size() - tail.size(), tail.size(), tail) == 0;
    });
  }
  // "docs/../README.md" -> "README.md"; "" when it leaves the repository.
  static std::string normal(const std::string& path) {
    const fs::path n = fs::path(path).lexically_normal();
    std::string s = n.generic_string();
    if (!s.empty() && s.back() == '/') s.pop_back();
    if (starts_with(s, "..") || n.is_absolute()) return "";
    return s;
  }
};

const RepoFiles& repo() {
  static const RepoFiles files;
  return files;
}

std::string folder_of(const std::string& page) {
  const auto slash = page.rfind('/');
  return slash == std::string::npos ? "" : page.substr(0, slash + 1);
}

// ---- code blocks ----

const std::string kOutline = "<!-- outline, not compiled";
const std::set<std::string> kLanguages = {"cpp", "sh", "meson", "cmake", "ini", "text"};

struct Block {
  std::string language;
  std::string text;
  bool outline = false;
  std::size_t line = 0;  // of the opening fence, from 1
};

// A page's fenced blocks. Fences must start at the line's first column and
// name a language of kLanguages.
std::vector<Block> blocks_of(const std::string& page, const std::string& text) {
  std::vector<Block> blocks;
  bool inside = false;
  std::string previous;
  Block block;
  const auto lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const auto at = line.find_first_not_of(' ');
    const bool fence = at != std::string::npos && line.compare(at, 3, "```") == 0;
    if (fence && at != 0) {
      BOOST_ERROR(page << ":" << i + 1 << ": an indented fence; start fences at column 1");
    }
    if (!inside && fence) {
      inside = true;
      block = Block{line.substr(at + 3), "", starts_with(previous, kOutline), i + 1};
      BOOST_TEST(kLanguages.count(block.language) == 1,
                 page << ":" << i + 1 << ": a code block needs a language (cpp, sh, meson, "
                      << "cmake, ini, text), not '" << block.language << "'");
    } else if (inside && fence) {
      BOOST_TEST(line.substr(at) == "```", page << ":" << i + 1 << ": a fence inside a block");
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block.text += line + "\n";
    }
    previous = line;
  }
  BOOST_TEST(!inside, page << ": a code block is not closed");
  return blocks;
}

struct Region {
  std::string page, name, file, text;
  bool rows = false;  // "// DOC rows <page>": code for a spelling table, not quoted
};

// The regions of every test file in tests/ (and its subfolders).
std::vector<Region> regions() {
  std::vector<Region> out;
  const std::string begin = "// DOC begin ", rows = "// DOC rows ", end = "// DOC end";
  std::vector<fs::path> sources;
  for (const auto& entry : fs::recursive_directory_iterator(kRoot / "tests")) {
    if (entry.is_regular_file() && entry.path().extension() == ".cpp")
      sources.push_back(entry.path());
  }
  std::sort(sources.begin(), sources.end());
  for (const fs::path& source : sources) {
    bool inside = false;
    std::size_t indent = 0;
    Region region;
    for (const std::string& line : lines_of(read_file(source))) {
      const std::size_t at = line.find_first_not_of(' ');
      const std::string body = at == std::string::npos ? "" : line.substr(at);
      if (starts_with(body, begin)) {
        BOOST_TEST(!inside, source << ": region " << region.name << " is not closed");
        const std::string key = body.substr(begin.size());
        const auto colon = key.rfind(':');
        BOOST_TEST_REQUIRE(colon != std::string::npos,
                           source << ": '" << body << "' needs <page>:<name>");
        region =
            Region{key.substr(0, colon), key.substr(colon + 1), source.filename().string(), ""};
        inside = true;
        indent = at;
      } else if (starts_with(body, rows)) {
        BOOST_TEST(!inside, source << ": region " << region.name << " is not closed");
        region = Region{body.substr(rows.size()), "rows", source.filename().string(), "", true};
        inside = true;
        indent = at;
      } else if (inside && body == end) {
        inside = false;
        out.push_back(region);
      } else if (inside) {
        region.text += (line.size() > indent ? line.substr(indent) : std::string()) + "\n";
      }
    }
    BOOST_TEST(!inside, source << ": region " << region.name << " is not closed");
  }
  return out;
}

// ---- spelling tables ----

// The cells of a table line "| a | `b \\| c` |": split at each '|' outside
// code spans that is not escaped, trimmed.
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool in_span = false;
  for (std::size_t i = 1; i < line.size(); ++i) {  // after the leading '|'
    const char c = line[i];
    if (c == '`') in_span = !in_span;
    if (c == '|' && !in_span && line[i - 1] != '\\') {
      const auto first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
      cell.clear();
    } else {
      cell += c;
    }
  }
  return cells;
}

// The code spans of a piece of Markdown, in order.
std::vector<std::string> code_spans(const std::string& text) {
  std::vector<std::string> spans;
  for (std::size_t at = text.find('`'); at != std::string::npos; at = text.find('`', at)) {
    const auto close = text.find('`', at + 1);
    if (close == std::string::npos) break;
    spans.push_back(text.substr(at + 1, close - at - 1));
    at = close + 1;
  }
  return spans;
}

// Runs of spaces and newlines as one space, none next to punctuation, so
// that a span matches however clang-format or the page breaks it.
std::string squeezed(const std::string& text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == ' ' || c == '\n') {
      space = true;
      continue;
    }
    const auto word = [](char x) {
      return std::isalnum(static_cast<unsigned char>(x)) || x == '_';
    };
    if (space && !out.empty() && word(out.back()) && word(c)) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

struct SpellingRow {
  std::size_t line;                // from 1
  std::string libtorch;            // the first cell
  std::vector<std::string> xgrad;  // the code spans of the second cell
};

// The rows of the page's spelling tables (header "| libtorch | xgrad |...").
std::vector<SpellingRow> spelling_rows(const std::string& text) {
  std::vector<SpellingRow> rows;
  bool in_table = false, in_code = false;
  const auto lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (starts_with(line, "```")) in_code = !in_code;
    if (in_code || !starts_with(line, "|")) {
      in_table = false;
      continue;
    }
    const auto cells = cells_of(line);
    if (!in_table && cells.size() >= 2 && cells[0] == "libtorch" && cells[1] == "xgrad") {
      in_table = true;
      ++i;  // the |---| line
    } else if (in_table && cells.size() >= 2) {
      rows.push_back({i + 1, cells[0], code_spans(cells[1])});
    }
  }
  return rows;
}

// ---- references ----

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces to
// hyphens; a repeated heading gets -1, -2, ...
std::set<std::string> anchors_of(const std::string& text) {
  std::set<std::string> out;
  std::map<std::string, int> seen;
  bool in_code = false;
  for (const std::string& line : lines_of(text)) {
    if (starts_with(line, "```")) in_code = !in_code;
    if (in_code || !starts_with(line, "#")) continue;
    const auto start = line.find_first_not_of('#');
    if (start == std::string::npos || line[start] != ' ') continue;
    std::string slug;
    for (const char c : line.substr(start + 1)) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '_' || c == '-')
        slug += static_cast<char>(std::tolower(u));
      else if (c == ' ')
        slug += '-';
      else if (u >= 0x80)
        slug += c;  // letters beyond ASCII stay (GitHub keeps them)
    }
    const int n = seen[slug]++;
    out.insert(n == 0 ? slug : slug + "-" + std::to_string(n));
  }
  return out;
}

// The page's text outside code blocks and inline code spans.
std::string prose_of(const std::string& text) {
  std::string out;
  bool in_code = false;
  for (const std::string& line : lines_of(text)) {
    if (starts_with(line, "```")) {
      in_code = !in_code;
      continue;
    }
    if (in_code) continue;
    bool in_span = false;
    for (const char c : line) {
      if (c == '`')
        in_span = !in_span;
      else if (!in_span)
        out += c;
    }
    out += '\n';
  }
  return out;
}

// Link targets: [text](target), ![alt](target), and [label]: target lines.
std::vector<std::string> link_targets(const std::string& prose) {
  std::vector<std::string> out;
  static const std::regex inline_link(R"(\]\(([^)\s]+)(?:\s+"[^"]*")?\))");
  static const std::regex reference(R"(^\s*\[[^\]]+\]:\s*(\S+))");
  for (auto it = std::sregex_iterator(prose.begin(), prose.end(), inline_link);
       it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  for (const std::string& line : lines_of(prose)) {
    std::smatch m;
    if (std::regex_search(line, m, reference)) out.push_back(m[1]);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pages_quote_exactly_the_compiled_regions) {
  const auto all_regions = regions();
  const auto all_pages = pages();
  BOOST_TEST(all_regions.size() >= 15u);  // a broken region reader must not pass by finding none
  std::map<std::string, int> quoted;      // "page:name" -> times quoted
  for (const Region& r : all_regions) {
    if (r.rows) continue;
    const std::string key = r.page + ":" + r.name;
    BOOST_TEST(quoted.count(key) == 0, "region " << key << " is defined twice (" << r.file << ")");
    quoted[key] = 0;
    BOOST_TEST(std::count(all_pages.begin(), all_pages.end(), r.page) == 1,
               r.file << ": region " << key << " names a page that does not exist");
  }
  for (const std::string& page : all_pages) {
    const auto blocks = blocks_of(page, read_file(kRoot / page));
    for (const Block& block : blocks) {
      if (block.language != "cpp" || block.outline) continue;
      bool found = false;
      for (const Region& r : all_regions) {
        if (!r.rows && r.page == page && r.text == block.text) {
          found = true;
          ++quoted[r.page + ":" + r.name];
        }
      }
      BOOST_TEST(found, page << ":" << block.line
                             << ": this C++ block is not a region \"// DOC begin " << page
                             << ":<name>\" of a test in tests/ (or it differs from it), and "
                             << "not marked as an outline:\n"
                             << block.text);
    }
  }
  for (const auto& [key, times] : quoted) {
    BOOST_TEST(times == 1, "region " << key << " is quoted " << times << " times by its page");
  }
}

BOOST_AUTO_TEST_CASE(every_spelling_in_a_table_is_compiled_by_a_test) {
  const auto all_regions = regions();
  const auto all_pages = pages();
  for (const Region& r : all_regions) {
    BOOST_TEST((!r.rows || std::count(all_pages.begin(), all_pages.end(), r.page) == 1),
               r.file << ": a rows region names " << r.page << ", which is not a page");
  }
  std::size_t tables_rows = 0;
  for (const std::string& page : all_pages) {
    std::string compiled;
    for (const Region& r : all_regions)
      if (r.rows && r.page == page) compiled += squeezed(r.text) + "\n";
    for (const SpellingRow& row : spelling_rows(read_file(kRoot / page))) {
      ++tables_rows;
      BOOST_TEST(!row.xgrad.empty(), page << ":" << row.line << ": the row for " << row.libtorch
                                          << " names no xgrad code (`...`) to compile");
      for (const std::string& span : row.xgrad) {
        BOOST_TEST(compiled.find(squeezed(span)) != std::string::npos,
                   page << ":" << row.line << ": `" << span << "` (for " << row.libtorch
                        << ") occurs in no \"// DOC rows " << page << "\" region of tests/");
      }
    }
  }
  BOOST_TEST(tables_rows >= 40u);  // docs/libtorch.md's tables: a broken reader finds none
}

BOOST_AUTO_TEST_CASE(links_resolve_inside_the_repository) {
  std::map<std::string, std::set<std::string>> anchors;
  for (const std::string& page : pages()) anchors[page] = anchors_of(read_file(kRoot / page));
  for (const std::string& page : pages()) {
    for (const std::string& target : link_targets(prose_of(read_file(kRoot / page)))) {
      if (starts_with(target, "http://") || starts_with(target, "https://")) continue;
      const auto hash = target.find('#');
      const std::string path = target.substr(0, hash);
      const std::string file = path.empty() ? page : RepoFiles::normal(folder_of(page) + path);
      BOOST_TEST((!file.empty() && repo().has(file)),
                 page << ": the link " << target << " points at nothing in the repository");
      if (hash == std::string::npos || file.empty() || !repo().has(file)) continue;
      const std::string anchor = target.substr(hash + 1);
      BOOST_TEST((anchors.count(file) == 1 && anchors[file].count(anchor) == 1),
                 page << ": the link " << target << " names no heading of " << file);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_page_is_reachable_from_the_front_page_and_the_index) {
  // A page nobody links to is a page nobody finds.
  const auto from_readme = link_targets(prose_of(read_file(kRoot / "README.md")));
  const auto from_index = link_targets(prose_of(read_file(kRoot / "docs/README.md")));
  const auto links_to = [](const std::vector<std::string>& targets, const std::string& file) {
    return std::any_of(targets.begin(), targets.end(),
                       [&](const std::string& t) { return t.substr(0, t.find('#')) == file; });
  };
  for (const std::string& page : pages()) {
    if (page == "README.md") continue;
    BOOST_TEST(links_to(from_readme, page), "README.md does not link to " << page);
    if (page == "docs/README.md") continue;
    const std::string from_docs = starts_with(page, "docs/") ? page.substr(5) : "../" + page;
    BOOST_TEST(links_to(from_index, from_docs), "docs/README.md does not link to " << page);
  }
}

BOOST_AUTO_TEST_CASE(named_files_exist_in_the_repository) {
  // A file named anywhere on a page, code blocks included (an #include, a
  // script), by its extension: sources, scripts, build files and pages.
  static const std::regex file_name(
      R"((^|[^A-Za-z0-9_./<*{$-])([A-Za-z0-9_][A-Za-z0-9_./+-]*\.(md|hpp|cpp|sh|py|build))(?![A-Za-z0-9_]))");
  for (const std::string& page : pages()) {
    const std::string text = read_file(kRoot / page);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), file_name);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[2];
      BOOST_TEST(repo().names_a_file(folder_of(page), name),
                 page << " names " << name << ", which is not in the repository");
    }
  }
}

BOOST_AUTO_TEST_CASE(nothing_points_outside_the_repository) {
  // The developers' reference material is not part of the repository: what a
  // user needs from it is written into docs/.
  for (const std::string& page : pages()) {
    const std::string text = read_file(kRoot / page);
    for (const char* outside : {"shared/", "spec/"}) {
      BOOST_TEST(text.find(outside) == std::string::npos,
                 page << " mentions " << outside << ", which is outside the repository");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_checks_catch_what_they_are_for) {
  // The readers behind the cases above, on pages with known faults.
  const auto blocks = blocks_of(
      "example", "text\n```cpp\nint a;\n```\n" + kOutline + " -->\n```cpp\nfor (...)\n```\n");
  BOOST_TEST(blocks.size() == 2u);
  BOOST_TEST(!blocks[0].outline);
  BOOST_TEST(blocks[0].text == "int a;\n");
  BOOST_TEST(blocks[1].outline);
  const auto targets =
      link_targets(prose_of("[a](docs/qat.md#steps) ![p](x.png)\n`[b](inline)`\n[c]: ../y.md\n"));
  BOOST_TEST(targets == (std::vector<std::string>{"docs/qat.md#steps", "x.png", "../y.md"}));
  BOOST_TEST(anchors_of("# Quick start\n## What's in `xgrad`?\n## Quick start\n") ==
             (std::set<std::string>{"quick-start", "whats-in-xgrad", "quick-start-1"}));
  BOOST_TEST(repo().names_a_file("docs/", "../README.md"));
  BOOST_TEST(repo().names_a_file("", "xgrad/quant/qat/workflow.hpp"));
  BOOST_TEST(repo().names_a_file("", "test_docs.cpp"));
  BOOST_TEST(!repo().names_a_file("", "paper.md"));
  BOOST_TEST(!repo().names_a_file("", "experiment.md"));  // docs/experiment.md is not at the root
  BOOST_TEST(!repo().names_a_file("docs/", "../../README.md"));
  const auto rows = spelling_rows(
      "| libtorch | xgrad | notes |\n|---|---|---|\n| `t[0]` | `t[0]`, `a \\| b` | x |\n"
      "| `f` | none | y |\n\ntext\n| libtorch | other |\n|---|---|\n| `g` | `h` |\n");
  BOOST_TEST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].line == 3u);
  BOOST_TEST(rows[0].xgrad == (std::vector<std::string>{"t[0]", "a \\| b"}));
  BOOST_TEST(rows[1].xgrad.empty());
  BOOST_TEST(squeezed("nn::Linear<float>(\n    4, 2)") == "nn::Linear<float>(4,2)");
  BOOST_TEST(squeezed("const  auto x") == "const auto x");
}

BOOST_AUTO_TEST_SUITE_END()  // test_docs
