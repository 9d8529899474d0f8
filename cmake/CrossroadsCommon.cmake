# Settings shared by the whole project and by the engine built on its own (cmake -S inference):
# language level, build type, the warning set, and nlohmann/json.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

option(CROSSROADS_WERROR "Treat warnings as errors" OFF)
add_library(crossroads_warnings INTERFACE)
target_compile_options(crossroads_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                            $<$<BOOL:${CROSSROADS_WERROR}>:-Werror>>)

# nlohmann/json is header-only: a system package, or a folder given with
# -DNLOHMANN_JSON_INCLUDE_DIR (for machines without a package manager).
set(NLOHMANN_JSON_INCLUDE_DIR "" CACHE PATH "Folder holding nlohmann/json.hpp")
if(NLOHMANN_JSON_INCLUDE_DIR)
  add_library(nlohmann_json INTERFACE)
  target_include_directories(nlohmann_json SYSTEM INTERFACE ${NLOHMANN_JSON_INCLUDE_DIR})
  add_library(nlohmann_json::nlohmann_json ALIAS nlohmann_json)
else()
  find_package(nlohmann_json 3.10 REQUIRED)
endif()

include(CTest)
