from services.scheduling.bootstrap import bootstrap
from shared.runtime import serve


def main() -> None:
    service = bootstrap()
    serve(service.runtime, service.app)


if __name__ == "__main__":
    main()
