# Facade image for docker-compose.yml (not built on the CI machine: no Docker
# engine there).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /fhirfacade ./cmd/fhirfacade

FROM gcr.io/distroless/static-debian12
COPY --from=build /fhirfacade /fhirfacade
ENTRYPOINT ["/fhirfacade"]
