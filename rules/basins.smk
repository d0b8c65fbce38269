# ERA5-Land grids -> catchment means (zarr); CAMELS-GB + those means -> one basin dataset.
# Caravan is already basin-averaged: its basin dataset is built directly (no weights, no
# aggregation), and a CAMELS-GB run may take its probe targets from Caravan's camelsgb means
# instead of ERA5-Land (probe_target_source: caravan; then no ERA5-Land is read at all).

if config["source"] == "caravan":

    rule build_caravan_dataset:
        input:
            caravan=source_paths.caravan_dir(config),
        output:
            directory("results/basin_dataset.zarr"),
        log:
            "logs/build_basin_dataset.log",
        benchmark:
            "results/benchmarks/build_basin_dataset.tsv"
        conda:
            "../envs/hydroprobe.yaml"
        threads: 1
        resources:
            mem_mb=job_resources.mem_mb(config, fixed_mb=1000, bytes_per_basin_day=240),
            runtime=60,
        params:
            subdataset=config["caravan"]["subdataset"],
            layout=config["caravan"]["layout"],
            forcing=config["caravan"]["forcing"],
            basins=config["basins"],
            dynamic_inputs=config["model"]["dynamic_inputs"],
            target=config["model"]["target"],
            static_inputs=config["model"]["static_inputs"],
            periods=config["periods"],
        script:
            "../workflow_scripts/build_caravan_dataset.py"

else:

    if source_paths.uses_era5_land(config):

        rule catchment_weights:
            input:
                camels_gb=source_paths.camels_gb_dir(config),
                era5_land=source_paths.era5_land_input(config),
            output:
                "results/catchment_weights.nc",
            log:
                "logs/catchment_weights.log",
            benchmark:
                "results/benchmarks/catchment_weights.tsv"
            conda:
                "../envs/hydroprobe.yaml"
            threads: 1
            resources:
                mem_mb=job_resources.mem_mb(config, fixed_mb=1000),
                runtime=60,
            params:
                method=config["aggregation"]["method"],
                basins=config["basins"],
                variables=config["era5_land"]["variables"],
            script:
                "../workflow_scripts/catchment_weights.py"

        rule aggregate_era5_land:
            input:
                weights="results/catchment_weights.nc",
                era5_land=source_paths.era5_land_input(config),
            output:
                directory("results/era5_land_basins.zarr"),
            log:
                "logs/aggregate_era5_land.log",
            benchmark:
                "results/benchmarks/aggregate_era5_land.tsv"
            conda:
                "../envs/hydroprobe.yaml"
            threads: 4
            resources:
                mem_mb=job_resources.STREAMED_JOB_MB,  # the grid is read a time chunk at a time
                runtime=120,
            params:
                variables=config["era5_land"]["variables"],
            script:
                "../workflow_scripts/aggregate_era5_land.py"

    rule build_basin_dataset:
        input:
            **source_paths.probe_target_input(config),
            camels_gb=source_paths.camels_gb_dir(config),
        output:
            directory("results/basin_dataset.zarr"),
        log:
            "logs/build_basin_dataset.log",
        benchmark:
            "results/benchmarks/build_basin_dataset.tsv"
        conda:
            "../envs/hydroprobe.yaml"
        threads: 1
        resources:
            mem_mb=job_resources.mem_mb(config, fixed_mb=500, bytes_per_basin_day=40),
            runtime=60,
        params:
            basins=config["basins"],
            dynamic_inputs=config["model"]["dynamic_inputs"],
            target=config["model"]["target"],
            static_inputs=config["model"]["static_inputs"],
            periods=config["periods"],
            probe_targets=config["era5_land"]["variables"],
            caravan_layout=config["caravan"]["layout"],
        script:
            "../workflow_scripts/build_basin_dataset.py"
