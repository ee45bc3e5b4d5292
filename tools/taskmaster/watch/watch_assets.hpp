#pragma once
// The live view's page, scripts and style, built into the program (from
// watch/assets/ by embed_assets.cmake) so that it needs no files and no
// internet at run time.

#include <string_view>

namespace taskmaster::cli::watch {

/// One file of the page.
///
/// @code
/// if (const auto* page = taskmaster::cli::watch::find_asset("index.html")) serve(page->data);
/// @endcode
struct Asset {
  std::string_view name;  ///< the file's name under watch/assets/
  std::string_view type;  ///< its Content-Type
  std::string_view data;
};

/// The asset of that exact name, or nullptr: names are looked up, never
/// turned into paths.
const Asset* find_asset(std::string_view name) noexcept;

}  // namespace taskmaster::cli::watch
