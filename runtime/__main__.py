from simptu.runtime.cli import main

raise SystemExit(main())
