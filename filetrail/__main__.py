from filetrail.cli import main

raise SystemExit(main())
