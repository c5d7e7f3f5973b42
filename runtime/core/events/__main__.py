from simptu.runtime.core.events.cli import main

raise SystemExit(main())
