from simptu.runtime.channels.cli import main

raise SystemExit(main())
