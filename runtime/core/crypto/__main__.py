from simptu.runtime.core.crypto.cli import main

raise SystemExit(main())
