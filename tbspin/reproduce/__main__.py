"""``python -m tbspin.reproduce NAME|all [--quick] [--out DIR]``."""

import sys

from tbspin.reproduce import main

sys.exit(main(sys.argv[1:]))
