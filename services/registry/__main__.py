from services.registry.bootstrap import bootstrap
from shared.runtime import serve


def main() -> None:
    serve(bootstrap)


if __name__ == "__main__":
    main()
