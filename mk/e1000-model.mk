# Header dependencies of the fuzz build: the top-level Makefile includes the
# .d files of build/ and build-san/ only, so a changed header (e.g. a struct
# layout in hw/e1000/e1000_priv.h) left stale objects in build-fuzz/ that
# disagree on the layout.  Including them twice elsewhere is harmless.
-include $(shell find $(or $(FUZZ_BUILD),build-fuzz) -name '*.d' 2>/dev/null)
