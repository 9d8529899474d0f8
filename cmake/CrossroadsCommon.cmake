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
# AddressSanitizer and UndefinedBehaviorSanitizer over everything built (`make sanitize`, with
# clang): any report stops the program with a non-zero exit, so a test under them fails.
option(CROSSROADS_SANITIZE "Build with ASan and UBSan" OFF)
if(CROSSROADS_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=address,undefined)
endif()
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

# crossroads_include_root(TARGET SPELLING DIR): TARGET's headers are included as "SPELLING/X.h"
# from an include root of its own, ${CMAKE_BINARY_DIR}/include-roots/TARGET, that holds only a
# link SPELLING -> DIR. A library sees the roots of what it links and nothing else, so an include
# the layering of docs/DESIGN.md does not allow (cpu/ naming cuda/, analysis/ naming data/)
# fails to compile instead of passing unnoticed.
function(crossroads_include_root target spelling dir)
  set(root ${CMAKE_BINARY_DIR}/include-roots/${target})
  get_filename_component(parent ${root}/${spelling} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT IS_SYMLINK ${root}/${spelling})
    file(CREATE_LINK ${dir} ${root}/${spelling} SYMBOLIC)
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${root})
  elseif(type MATCHES "LIBRARY")
    target_include_directories(${target} PUBLIC ${root})
  else()
    target_include_directories(${target} PRIVATE ${root})
  endif()
endfunction()
