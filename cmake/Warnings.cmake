# The one place the warning list lives.
function(gh_picky_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wformat=2 -Wundef -Wvla -Wno-unused-parameter -Werror)
endfunction()
